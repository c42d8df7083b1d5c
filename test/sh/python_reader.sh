#!/usr/bin/env bash
# test/sh/python_reader.sh: the stored model is readable outside PostgreSQL.
#
# Trains a model with numeric, boolean and categorical features, fetches
# its msgpack document from anomaly.model_versions, and has Python (Debian's
# python3-msgpack and python3-numpy, no extension code) recompute every
# row's score from the document as docs/model-format.md describes it; the
# scores must match the SQL ones to float32 precision.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

psql -X -q -v ON_ERROR_STOP=1 -At <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS pyr;
CREATE TABLE pyr AS
SELECT i AS id, sin(i * 0.05) * 100 AS amount, (i % 24) AS hour, (i % 3 = 0) AS online,
       (ARRAY['a', 'b', 'c', 'd'])[1 + i % 4] AS shop
FROM generate_series(1, 800) i;
UPDATE pyr SET amount = NULL WHERE id % 97 = 0;
UPDATE pyr SET shop = NULL WHERE id % 89 = 0;
SELECT anomaly.anomaly_drop_model('pyr', if_exists => true);
SELECT version FROM anomaly.anomaly_create_model('pyr', 'pyr', method => 'autoencoder', exclude => '{id}',
    options => '{"seed": 5, "epochs": 3, "max_categories": 3, "activation": "tanh"}');
\copy (SELECT encode(model, 'hex') FROM anomaly.model_versions WHERE name = 'pyr' AND deployed) TO '$work/model.hex'
\copy (SELECT amount, hour, online, shop, anomaly.anomaly_score('pyr', p) FROM pyr p ORDER BY id) TO '$work/rows.csv' WITH (FORMAT csv)
SELECT anomaly.anomaly_drop_model('pyr');
DROP TABLE pyr;
SQL

/usr/bin/python3 - "$work" <<'PY'
import csv, sys
import msgpack
import numpy as np

work = sys.argv[1]
doc = msgpack.unpackb(bytes.fromhex(open(f"{work}/model.hex").read().strip()), raw=False)
assert doc["format"] == "anomaly-model" and doc["format_version"] == 1, doc.get("format")
acts = {"relu": lambda v: np.maximum(v, 0), "identity": lambda v: v, "tanh": np.tanh,
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "leaky_relu": lambda v: np.where(v > 0, v, np.float32(0.01) * v)}

def encode(row):
    out = []
    for f, value in zip(doc["features"], row):
        if f["kind"] == "categorical":
            slots = [0.0] * (len(f["categories"]) + 1)
            slots[f["categories"].index(value) if value in f["categories"] else -1] = 1.0
            out += slots
        elif value == "":
            out.append(f["fill"])
        elif f["kind"] == "boolean":
            out.append(1.0 if value == "t" else 0.0)
        else:
            out.append(float(value))
    return np.array(out)

offset = np.array(doc["scaler"]["offset"])
scale = np.array(doc["scaler"]["scale"])
worst = 0.0
n = 0
for row in csv.reader(open(f"{work}/rows.csv")):
    x = ((encode(row[:4]) - offset) / scale).astype(np.float32)
    h = x
    for layer in doc["state"]["network"]["layers"]:
        w = np.frombuffer(layer["weight"], "<f4").reshape(layer["out"], layer["in"])
        h = h @ w.T
        if "bias" in layer:
            h = h + np.frombuffer(layer["bias"], "<f4")
        h = acts[layer["activation"]](h)
    score = float(np.mean((h.astype(np.float64) - x) ** 2))
    sql = float(row[4])
    worst = max(worst, abs(score - sql) / max(abs(sql), 1e-12))
    n += 1
print(f"{n} rows rescored in Python from the msgpack document; worst relative difference {worst:.2e}")
sys.exit(0 if n == 800 and worst < 1e-4 else 1)
PY
