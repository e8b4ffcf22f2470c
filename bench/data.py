"""Data-step benchmarks, printed as two figures.

(a) files indexed per second on a generated tree of 20,000 small files;
(b) one training epoch's input time from JPEG files through the pipeline, versus the
    same images already in memory, as a ratio, in one run.

    python bench/data.py [--files 20000] [--images 2000] [--img-size 160]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from PIL import Image


def jpeg_bytes(rng: np.random.Generator, size: int) -> bytes:
    pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def write_tree(root: Path, n_files: int, n_classes: int, size: int, distinct: int = 64) -> None:
    rng = np.random.default_rng(0)
    samples = [jpeg_bytes(rng, size) for _ in range(distinct)]
    for i in range(n_files):
        folder = root / f"class_{i % n_classes:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"img_{i:06d}.jpg").write_bytes(samples[i % distinct])


def bench_index(n_files: int, work: Path) -> float:
    from desktop_app.core.data.scan import scan_folder

    root = work / "index"
    write_tree(root, n_files, n_classes=20, size=16)
    if hasattr(os, "sync"):
        os.sync()  # the listing should not time the writes still in flight
    start = time.perf_counter()
    index = scan_folder(root)
    seconds = time.perf_counter() - start
    assert len(index.files) == n_files
    rate = n_files / seconds
    print(f"(a) indexed {n_files:,} files in {seconds:.2f} s: {rate:,.0f} files/s")
    return rate


def bench_epoch(n_images: int, img_size: int, batch_size: int, work: Path) -> float:
    import tensorflow as tf

    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.data.pipeline import make_dataset

    root = work / "epoch"
    write_tree(root, n_images, n_classes=10, size=256, distinct=n_images)
    index = scan_folder(root)

    def run(ds) -> float:
        start = time.perf_counter()
        for _ in ds:
            pass
        return time.perf_counter() - start

    files_ds = make_dataset(index.files, len(index.classes), img_size, batch_size, shuffle=True)
    run(files_ds.take(2))  # warm-up: graph tracing, thread pools
    from_files = run(files_ds)

    # The same images, decoded and resized once, held in memory.
    images = np.concatenate([x.numpy() for x, _ in make_dataset(index.files, len(index.classes), img_size, 64)])
    labels = tf.one_hot([f.label for f in index.files], len(index.classes))
    memory_ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images)).batch(batch_size)
    memory_ds = memory_ds.prefetch(tf.data.AUTOTUNE)
    run(memory_ds.take(2))
    from_memory = run(memory_ds)
    ratio = from_files / from_memory
    print(f"(b) one epoch of {n_images:,} JPEGs (256 px -> {img_size} px, batch {batch_size}): "
          f"{from_files:.2f} s from files, {from_memory:.2f} s from memory: ratio {ratio:.1f}x "
          f"({n_images / from_files:,.0f} images/s through the pipeline)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--images", type=int, default=2_000)
    parser.add_argument("--img-size", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ts-bench-"))
    try:
        print(f"{os.cpu_count()} CPU cores")
        bench_index(args.files, work)
        bench_epoch(args.images, args.img_size, args.batch_size, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
