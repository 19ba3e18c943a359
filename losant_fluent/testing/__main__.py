"""``python -m losant_fluent.testing``: run the emulator in the foreground."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse options, print the URL and seeded credentials, serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m losant_fluent.testing",
        description="Serve a local emulator of the Losant REST API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding to a non-loopback address (anyone who can reach it gets in)",
    )
    parser.add_argument("--devices", type=int, default=0, help="extra devices to seed")
    parser.add_argument("--token-ttl", type=float, default=None, help="token lifetime, seconds")
    parser.add_argument("--no-throttle", action="store_true",
                        help="do not enforce Losant's throttles and one-at-a-time jobs")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply every throttle window and job duration (default 1)")
    args = parser.parse_args(argv)
    try:
        from ._server import Emulator
    except ImportError as exc:  # werkzeug missing
        print(
            f"the emulator needs werkzeug: pip install 'losant-fluent[testing]' ({exc})",
            file=sys.stderr,
        )
        return 2
    try:
        emu = Emulator(
            args.host,
            args.port,
            token_ttl=args.token_ttl,
            extra_devices=args.devices,
            allow_remote=args.allow_remote,
            quiet=False,
            throttle=not args.no_throttle,
            time_scale=args.time_scale,
        )
    except ValueError as exc:
        parser.error(str(exc))
    emu.start()
    print(f"Losant emulator listening on {emu.url}")
    print(f"  LOSANT_API_URL={emu.url}")
    print(f"  LOSANT_API_TOKEN={emu.user_token()}")
    print(f"  LOSANT_EMAIL={emu.user_email}")
    print(f"  LOSANT_PASSWORD={emu.user_password}")
    print(f"  LOSANT_APPLICATION_ID={emu.application_id}")
    print(f"  LOSANT_DEVICE_ID={emu.device_id}")
    print(f"  LOSANT_ACCESS_KEY={emu.access_key}")
    print(f"  LOSANT_ACCESS_SECRET={emu.access_secret}")
    print("With these exported, API() uses the token: API().me().get()")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
