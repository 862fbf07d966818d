"""The Kubernetes API of the operator: CRD schemas (the one source of `crds/`) and typed specs."""
