"""The embedding store: what the frozen base makes of each photo, kept by the photo's content.

While the base is frozen, its pooled output for a photo is a pure function of the photo,
the base, its weights and the image size: compute it once, key it by content, reuse it
in every later epoch, run and experiment. A key is the photo's content digest and the
base's identity (its kind, width, input size, pooling, precision, a digest of the very
weight values it holds, a format version), so different weights under the same file
name, or a swapped photo that kept its file times, are looked at again.

The store is a SQLite file in the user-data folder, bounded by size (least recently used
entries go first). It is a help, never a requirement: a folder that cannot be written
means training without it, with a note. Fast mode trains only the head on the stored
features (``head_model``), so its epochs take milliseconds; with augmentation on, on
stored changed versions of each photo (``AugmentedViews``, the augmentation bank).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from desktop_app.core.data.scan import ImageFile
from desktop_app.core.paths import user_data_dir

log = logging.getLogger(__name__)

FORMAT_VERSION = 1  # bump when what is stored changes meaning: old entries are then never matched
DEFAULT_LIMIT_BYTES = 2 * 1024**3
_BATCH_KEYS = 500  # SQLite's limit on query parameters is 999 on older builds


def store_dir() -> Path:
    return user_data_dir() / "embeddings"


class EmbeddingStore:
    """Embeddings by key, in a SQLite file; several processes may use it at once."""

    FILE = "store.sqlite"
    LIMIT_FILE = "limit.json"

    def __init__(self, folder: Path, limit_bytes: int | None = None):
        self.folder = Path(folder)
        self.note = ""  # why it is not available, in words; empty when it is
        self._limit = limit_bytes
        self._lock = threading.Lock()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, data BLOB NOT NULL, "
                           "dtype TEXT NOT NULL, shape TEXT NOT NULL, nbytes INTEGER NOT NULL, used REAL NOT NULL)")
                db.execute("CREATE INDEX IF NOT EXISTS by_use ON embeddings (used)")
        except (OSError, sqlite3.Error) as e:
            self.note = (f"Training without the embedding cache: {self.folder} cannot be written ({e}). "
                         "Each run looks at every photo again.")
            log.warning("%s", self.note)

    @classmethod
    def default(cls) -> EmbeddingStore:
        return cls(store_dir())

    @property
    def available(self) -> bool:
        return not self.note

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.folder / self.FILE, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")  # readers and one writer side by side
        return db

    # -- the size limit, shared by every process through a file beside the store --
    @property
    def limit_bytes(self) -> int:
        if self._limit is not None:
            return self._limit
        try:
            return int(json.loads((self.folder / self.LIMIT_FILE).read_text())["limit_bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            return DEFAULT_LIMIT_BYTES

    def set_limit(self, limit_bytes: int) -> None:
        from desktop_app.core.fileio import write_json_atomic

        write_json_atomic(self.folder / self.LIMIT_FILE, {"limit_bytes": int(limit_bytes)})
        self._evict()

    # -- reading and writing --
    def get(self, key: str) -> np.ndarray | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        if not self.available or not keys:
            return {}
        found: dict[str, np.ndarray] = {}
        try:
            with self._lock, self._connect() as db:
                for start in range(0, len(keys), _BATCH_KEYS):
                    chunk = list(keys[start:start + _BATCH_KEYS])
                    marks = ",".join("?" * len(chunk))
                    rows = db.execute(f"SELECT key, data, dtype, shape FROM embeddings WHERE key IN ({marks})", chunk)
                    for key, data, dtype, shape in rows:
                        found[key] = np.frombuffer(data, dtype=dtype).reshape(json.loads(shape))
                    db.execute(f"UPDATE embeddings SET used = ? WHERE key IN ({marks})", [time.time(), *chunk])
        except sqlite3.Error as e:  # a damaged or locked store: compute instead
            log.warning("The embedding store could not be read: %s", e)
        return found

    def put(self, key: str, vector: np.ndarray) -> None:
        self.put_many({key: vector})

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        if not self.available or not items:
            return
        now = time.time()
        rows = [(key, np.ascontiguousarray(v).tobytes(), str(v.dtype), json.dumps(list(v.shape)), v.nbytes, now)
                for key, v in items.items()]
        try:
            with self._lock, self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as e:  # a full disk: the run goes on without storing
            log.warning("The embedding store could not be written: %s", e)
            return
        self._evict()

    def _evict(self) -> None:
        """Least recently used entries go until the store fits its limit."""
        if not self.available:
            return
        limit = self.limit_bytes
        try:
            with self._lock, self._connect() as db:
                total = db.execute("SELECT COALESCE(SUM(nbytes), 0) FROM embeddings").fetchone()[0]
                while total > limit:
                    oldest = db.execute("SELECT key, nbytes FROM embeddings ORDER BY used LIMIT 200").fetchall()
                    if not oldest:
                        break
                    dropped, freed = [], 0
                    for key, nbytes in oldest:
                        if total - freed <= limit:
                            break
                        dropped.append((key,))
                        freed += nbytes
                    db.executemany("DELETE FROM embeddings WHERE key = ?", dropped)
                    total -= freed
        except sqlite3.Error as e:
            log.warning("The embedding store could not be trimmed: %s", e)

    def size_bytes(self) -> int:
        if not self.available:
            return 0
        with self._lock, self._connect() as db:
            return int(db.execute("SELECT COALESCE(SUM(nbytes), 0) FROM embeddings").fetchone()[0])

    def entries(self) -> set[str]:
        if not self.available:
            return set()
        with self._lock, self._connect() as db:
            return {key for (key,) in db.execute("SELECT key FROM embeddings")}

    def clear(self) -> None:
        if self.available:
            with self._lock, self._connect() as db:
                db.execute("DELETE FROM embeddings")
            with self._lock, self._connect() as db:
                db.execute("VACUUM")


# --------------------------------------------------------------------------- keys


def base_identity(model, settings, precision: str = "float32") -> str:
    """Everything of the classifier's frozen part that decides a photo's embedding."""
    from desktop_app.core.model.builder import base_of

    weights = hashlib.blake2b(digest_size=16)
    for variable in base_of(model).weights:
        weights.update(np.ascontiguousarray(variable.numpy()).tobytes())
    described = {"format": FORMAT_VERSION, "backbone": settings.backbone, "alpha": settings.alpha,
                 "img_size": settings.img_size, "pooling": settings.pooling, "precision": precision,
                 "weights": weights.hexdigest()}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def embedding_key(photo_digest: str, identity: str, view: int | None = None) -> str:
    """One photo, one base; ``view`` numbers an augmented version of the photo."""
    return f"{identity}:{photo_digest}" + ("" if view is None else f":{view}")


class AugmentedViews:
    """Changed versions of a photo made by the classifier's own augmentation layers, each
    seeded by the photo's content and the version's number: version v of a photo is the
    same in every run, whatever other photos the folder holds or share its batch."""

    def __init__(self, model, spec):
        import tensorflow as tf

        from desktop_app.core.augment.layers import AUGMENTATION_LAYER_NAME, fill_modes, seed_generators

        block = model.get_layer(AUGMENTATION_LAYER_NAME)
        # The fill is part of what a version looks like (the blocks of older runs mirror the photo).
        described = {**spec.to_dict(), "fill": fill_modes(block)}
        self.spec_id = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]
        layers = seed_generators(block)

        # Keras draws a whole batch's changes from one seed, so a photo's version would depend
        # on its neighbours. Here each photo's changes are drawn from its own seed (what each
        # layer would draw for the photo alone; the draws depend on the images' shape only),
        # then each layer changes the whole batch at once.
        @tf.function(reduce_retracing=True)
        def versions(images, seeds):
            wholes = [layer.get_random_transformation(images, training=True) for layer, _, _ in layers]
            keys = [[k for k, v in whole.items() if k != "input_shape" and tf.is_tensor(v) and v.shape.rank]
                    for whole in wholes]

            def draw(seed):
                drawn = []
                for (layer, generators, offset), names in zip(layers, keys):
                    for generator in generators:
                        generator.state.assign(tf.cast(tf.stack([seed + offset, 0]), generator.state.dtype))
                    alone = layer.get_random_transformation(images[:1], training=True)
                    drawn.append({k: alone[k][0] for k in names})
                return drawn

            signature = [{k: tf.TensorSpec(whole[k].shape[1:], whole[k].dtype) for k in names}
                         for whole, names in zip(wholes, keys)]
            drawn = tf.map_fn(draw, seeds, fn_output_signature=signature, parallel_iterations=1)
            x = images
            for (layer, _, _), whole, mine in zip(layers, wholes, drawn):
                x = layer.transform_images(x, {**whole, **mine}, training=True)
            return x

        self._versions = versions
        self._generators = [g for _, generators, _ in layers for g in generators]

    def identity(self, base_identity: str) -> str:
        return f"{base_identity}:aug-{self.spec_id}"

    def of(self, images, digests: Sequence[str], view: int):
        import tensorflow as tf

        # The classifier's own random state is left as it was: fine-tuning's augmentation must
        # not depend on how many versions the store already held.
        states = [g.state.numpy() for g in self._generators]
        try:
            return self._versions(images, tf.constant([view_seed(d, view) for d in digests], tf.int64))
        finally:
            for generator, state in zip(self._generators, states):
                generator.state.assign(state)


def view_seed(photo_digest: str, view: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{photo_digest}:{view}".encode(), digest_size=4).digest(), "big") >> 1


# --------------------------------------------------------------------------- the models


def feature_extractor(model):
    """The classifier up to its pooling layer: augmentation (inactive), preprocessing, base."""
    import keras

    from desktop_app.core.model.builder import POOLING_LAYER_NAME

    return keras.Model(model.inputs, model.get_layer(POOLING_LAYER_NAME).output, name="feature_extractor")


def head_model(model):
    """The layers after pooling, as a model on feature vectors that shares their weights."""
    import keras

    from desktop_app.core.model.builder import POOLING_LAYER_NAME

    pooling = model.get_layer(POOLING_LAYER_NAME)
    features = keras.Input(shape=pooling.output.shape[1:], name="features")
    x = features
    after = model.layers[model.layers.index(pooling) + 1:]
    for layer in after:
        x = layer(x)
    return keras.Model(features, x, name="head")


def embed(
    extractor,
    files: Sequence[ImageFile],
    digests: dict[Path, str],
    store: EmbeddingStore,
    identity: str,
    img_size: int,
    batch_size: int,
    report: Callable[[int, int], None] = lambda done, total: None,
    should_stop: Callable[[], bool] = lambda: False,
    views: AugmentedViews | None = None,
    view: int | None = None,
    looked: Callable[[int], None] = lambda count: None,
) -> tuple[np.ndarray, list[int]] | None:
    """(embeddings of the files that could be read, their indices in ``files``); with
    ``views``, of version ``view`` of each photo. ``extractor`` is ``feature_extractor(model)``,
    made once for all the calls (each new one is traced again).

    Stored embeddings are reused; the base looks only at the others, and they are stored.
    ``looked`` hears how many photos each batch the base really looked at had.
    A file that cannot be read (gone, damaged since) is left out. None when stopped.
    """
    from desktop_app.core.data.pipeline import AUTOTUNE, image_dataset
    from desktop_app.core.train.devices import predict_batch

    if views is not None:
        identity = views.identity(identity)
    keys = [embedding_key(digests[f.path], identity, view) for f in files]
    found = store.get_many(keys)
    todo = [i for i, key in enumerate(keys) if key not in found]
    report(len(files) - len(todo), len(files))
    computed: dict[int, np.ndarray] = {}
    if todo:
        batches = image_dataset([files[i].path for i in todo], img_size).batch(batch_size).prefetch(AUTOTUNE)
        for images, positions in batches:
            if should_stop():
                return None
            if views is not None:
                images = views.of(images, [digests[files[todo[int(p)]].path] for p in positions.numpy()], view)
            vectors = predict_batch(extractor, images)  # compiled, unlike an eager call
            fresh = {}
            for position, vector in zip(positions.numpy(), vectors):
                i = todo[int(position)]
                computed[i] = vector
                fresh[keys[i]] = vector
            store.put_many(fresh)
            looked(len(fresh))
            report(len(files) - len(todo) + len(computed), len(files))
    kept = [i for i in range(len(files)) if keys[i] in found or i in computed]
    if not kept:
        return np.zeros((0, 0), np.float32), []
    vectors = np.stack([found[keys[i]] if keys[i] in found else computed[i] for i in kept])
    return vectors.astype(np.float32), kept
