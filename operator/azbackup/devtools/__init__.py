"""Developer tools shipped with the package: the local control plane used by tests and the demo."""
