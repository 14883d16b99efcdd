"""The reference point for issue 7: a CSMS written on the PyPI `ocpp` library (the same server side the proxy
tests use, Tests/interop/csms.py), which users would otherwise pick. Serves ws://HOST:PORT/ocpp/{id} until
interrupted; `ocpp-bench run --url ws://127.0.0.1:PORT/ocpp` measures it like the bridge.

    .venv/bin/python Tests/load/python_csms.py --port 9500
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))

from csms import Csms  # noqa: E402


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9500)
    args = parser.parse_args()
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    csms = await Csms(port=args.port).start()
    print(f"listening python-csms=127.0.0.1:{csms.port} pid={os.getpid()}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
