"""The demo: SeaweedFS, a migrated database, a superuser, and Django on http://127.0.0.1:8000.

Run through `scripts/demo`. State (bucket contents, database) is kept in `.demo/` between runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from test_app.seaweedfs import SeaweedFS, allow_browser_uploads

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".demo"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # a local demo account on 127.0.0.1 only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="Django's port (default 8000)")
    args = parser.parse_args()

    # `kill` (SIGTERM) stops the demo as Ctrl+C does, so SeaweedFS is always stopped with it.
    signal.signal(signal.SIGTERM, _interrupt)
    STATE.mkdir(exist_ok=True)
    server = SeaweedFS(buckets=["s3ff-test", "s3ff-minio-test"], data_dir=STATE / "seaweedfs")
    server.start()
    try:
        os.environ["S3FF_TEST_S3_ENDPOINT_URL"] = server.endpoint_url
        os.environ["S3FF_TEST_DATABASE"] = str(STATE / "db.sqlite3")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        _ensure_superuser()
        origin = f"http://127.0.0.1:{args.port}"
        allow_browser_uploads(server, [origin, f"http://localhost:{args.port}"])
        print(f"\nSeaweedFS S3 at {server.endpoint_url} (data in {server.data_dir})")
        print(f"Demo at {origin}/ — the admin at {origin}/admin/")
        print(f"Admin user: {ADMIN_USERNAME} / {ADMIN_PASSWORD}\n")
        sys.stdout.flush()
        call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _ensure_superuser() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
        user_model.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)


if __name__ == "__main__":
    main()
