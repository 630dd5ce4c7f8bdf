"""Upload + enhance of a 12-megapixel JPEG end to end, next to the floor of decoding and encoding it.

End to end here means: multipart POST to /api/v1/images/upload, POST /api/v1/generations with
the enhance preset, a real RQ worker (burst) running the job against the embedded Redis and a
SQLite file, and the output stored. The floor is Pillow decoding and re-encoding the same JPEG.
"""
import io
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from rq import SimpleWorker  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.service import create_api_key, create_user  # noqa: E402
from app.embedded import start_redis  # noqa: E402
from app.extensions import db, redis_queues  # noqa: E402
from app.projects.service import create_project  # noqa: E402
from bench.common import bench_config  # noqa: E402

PHOTO = ROOT.parent / "shared" / "fixtures" / "photos" / "kitchen_01.jpg"
ROUNDS = 3


def twelve_megapixel_jpeg() -> bytes:
    image = Image.open(PHOTO).convert("RGB").resize((4240, 2832), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def floor_seconds(data: bytes) -> float:
    start = time.perf_counter()
    image = Image.open(io.BytesIO(data))
    image.load()
    image.save(io.BytesIO(), "JPEG", quality=92)
    return time.perf_counter() - start


def end_to_end_seconds(app, key: str, data: bytes) -> float:
    client = app.test_client()
    headers = {"X-API-Key": key}
    start = time.perf_counter()
    upload = client.post("/api/v1/images/upload", data={"file": (io.BytesIO(data), "big.jpg")}, headers=headers)
    image_id = upload.get_json()["data"]["id"]
    created = client.post(
        "/api/v1/generations", json={"preset": "enhance", "referenceImages": [image_id]}, headers=headers
    )
    SimpleWorker(redis_queues.all_queues(), connection=redis_queues.connection).work(burst=True, logging_level="WARNING")
    elapsed = time.perf_counter() - start
    status = client.get(f"/api/v1/generations/{created.get_json()['data']['id']}", headers=headers).get_json()
    assert status["data"]["status"] == "success", status
    return elapsed


def main() -> None:
    data = twelve_megapixel_jpeg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        redis_process = start_redis(tmp / "redis", tmp / "redis" / "redis.sock")
        app = create_app(bench_config(tmp))
        try:
            with app.app_context():
                upgrade()
                user = create_user("bench@example.com", "bench password")
                key = create_api_key(create_project(user, "Bench"), "bench")[1]
                db.session.commit()
                floor = min(floor_seconds(data) for _ in range(ROUNDS))
                total = min(end_to_end_seconds(app, key, data) for _ in range(ROUNDS))
        finally:
            if redis_process:
                redis_process.terminate()
    print(f"12 MP JPEG ({len(data) / 1e6:.1f} MB), best of {ROUNDS}")
    print(f"{'floor: Pillow decode + encode':<40} {floor:7.3f} s   1.00x")
    print(f"{'upload + enhance, end to end':<40} {total:7.3f} s   {total / floor:.2f}x the floor")


if __name__ == "__main__":
    main()
