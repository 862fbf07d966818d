"""The `azbackup` command: run the operator, the demo, the emulator, preflight, and maintenance tasks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _crds(args: argparse.Namespace) -> int:
    from azbackup import kinds
    from azbackup.api import render
    from azbackup.reconcile import leases

    rbac = render.rbac_template(kinds.NAMES, kinds.kube_writes(), leases.LEASE_VERBS) if args.rbac else ""
    if args.check:
        stale = [args.dir / name for name in render.stale_files(args.dir, kinds.crds())]
        if args.rbac and (not args.rbac.exists() or args.rbac.read_text() != rbac):
            stale.append(args.rbac)
        for path in stale:
            print(f"{path}: differs from the kinds' table (run `make crds`)", file=sys.stderr)
        return 1 if stale else 0
    for path in render.write(args.dir, kinds.crds()):
        print(path)
    if args.rbac:
        args.rbac.write_text(rbac)
        print(args.rbac)
    return 0


def _reasons(args: argparse.Namespace) -> int:
    from azbackup import reasons

    table = reasons.markdown_table()
    if args.update_readme:
        text = args.update_readme.read_text()
        begin, end = "<!-- reasons:begin -->\n", "\n<!-- reasons:end -->"
        head, rest = text.split(begin, 1)
        args.update_readme.write_text(head + begin + table + end + rest.split(end, 1)[1])
        return 0
    print(table)
    return 0


def _emulator(args: argparse.Namespace) -> int:
    # The emulator is a separate package the operator never imports; hand over the process to it.
    os.execv(sys.executable, [sys.executable, "-m", "azure_emulator", *args.rest])


def _run(args: argparse.Namespace) -> int:
    import logging

    import kopf

    from azbackup import config as cfg
    from azbackup import logs

    config = cfg.from_arguments(args)
    logs.setup(config.log_format, verbose=config.verbose)
    if config.metrics_port:
        from azbackup import metrics

        try:
            metrics.serve(config.metrics_port)
        except OSError as exc:
            logging.getLogger("azbackup").error("cannot serve metrics on port %s: %s", config.metrics_port, exc)
            return 2
    import azbackup.controllers  # noqa: F401  (registers the handlers)
    from azbackup.process import tlsbuffer

    tlsbuffer.shrink_read_buffer()
    kopf.run(clusterwide=not config.namespaces, namespaces=config.namespaces, standalone=config.standalone,
             priority=config.priority, peering_name=config.peering_name,
             liveness_endpoint=config.liveness_endpoint, memo=kopf.Memo(config=config))
    logging.getLogger("azbackup").info("operator stopped")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from azbackup.devtools import demo

    if args.in_cluster:
        return demo.main_in_cluster(keep=args.keep)
    return demo.main(keep=args.keep)


def _preflight(args: argparse.Namespace) -> int:
    from azbackup import preflight

    return preflight.main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="azbackup", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the operator (kopf underneath); the container's entrypoint")
    from azbackup import config as cfg

    cfg.add_arguments(run)
    run.set_defaults(func=_run)

    demo = sub.add_parser("demo", help="run the whole story on a local control plane and the Azure emulator")
    demo.add_argument("--keep", action="store_true", help="keep the work directory (logs, kubeconfig)")
    demo.add_argument("--in-cluster", action="store_true",
                      help="run the operator as a pod: the image built from the Dockerfile, installed with the "
                           "chart onto a real local node (kubelet + containerd; needs root)")
    demo.set_defaults(func=_demo)

    emu = sub.add_parser("emulator", help="run the Azure Resource Manager emulator alone "
                         "(arguments are those of `python -m azure_emulator --help`)", add_help=False)
    emu.add_argument("rest", nargs=argparse.REMAINDER)
    emu.set_defaults(func=_emulator)

    from azbackup import preflight

    check = sub.add_parser("preflight", help="read-only: which VMs of a subscription can be protected, and why not",
                           description=preflight.DESCRIPTION, epilog=preflight.EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    preflight.add_arguments(check)
    check.set_defaults(func=_preflight)

    crds = sub.add_parser("crds", help="write (or --check) the CRD YAML generated from the package")
    crds.add_argument("--dir", type=Path, default=Path("crds"))
    crds.add_argument("--check", action="store_true", help="exit 1 when the files differ from the code")
    crds.add_argument("--rbac", type=Path,
                      help="also the chart's generated RBAC template for the kinds and the shard Leases")
    crds.set_defaults(func=_crds)

    reasons = sub.add_parser("reasons", help="print the reason table (Markdown) that the README carries")
    reasons.add_argument("--update-readme", type=Path, metavar="README",
                         help="replace the table between the reasons markers of README instead")
    reasons.set_defaults(func=_reasons)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
