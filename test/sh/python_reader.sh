#!/usr/bin/env bash
# test/sh/python_reader.sh: the stored model is readable outside PostgreSQL.
#
# Trains two models with numeric, boolean and categorical features, an
# autoencoder (the mean of seven networks) and the default ensemble (an
# isolation forest, PCA and three autoencoders of one network), fetches their msgpack documents from
# anomaly.model_versions, and has Python (Debian's python3-msgpack and
# python3-numpy, no extension code) recompute every row's score from the
# document as docs/model-format.md describes it; the scores must match the
# SQL ones to float32 precision.
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
-- rows the models never saw, some far outside the training range
INSERT INTO pyr SELECT 1000 + i, i * 50.0, i % 30, i % 2 = 0, 'e' FROM generate_series(1, 40) i;
SELECT anomaly.anomaly_drop_model('pyr', if_exists => true);
SELECT anomaly.anomaly_drop_model('pyr_auto', if_exists => true);
SELECT version FROM anomaly.anomaly_create_model('pyr', 'SELECT * FROM pyr WHERE id <= 800',
    method => 'autoencoder', exclude => '{id}',
    options => '{"seed": 5, "epochs": 3, "max_categories": 3, "activation": "tanh"}');
SELECT version FROM anomaly.anomaly_create_model('pyr_auto', 'SELECT * FROM pyr WHERE id <= 800',
    exclude => '{id}', options => '{"seed": 5, "epochs": 3, "max_categories": 3}');
\copy (SELECT encode(model, 'hex') FROM anomaly.model_versions WHERE name = 'pyr' AND deployed) TO '$work/pyr.hex'
\copy (SELECT encode(model, 'hex') FROM anomaly.model_versions WHERE name = 'pyr_auto' AND deployed) TO '$work/pyr_auto.hex'
\copy (SELECT amount, hour, online, shop, anomaly.anomaly_score('pyr', p), anomaly.anomaly_score('pyr_auto', p) FROM pyr p ORDER BY id) TO '$work/rows.csv' WITH (FORMAT csv)
SELECT anomaly.anomaly_drop_model('pyr');
SELECT anomaly.anomaly_drop_model('pyr_auto');
DROP TABLE pyr;
SQL

/usr/bin/python3 - "$work" <<'PY'
import csv, math, sys
import msgpack
import numpy as np

work = sys.argv[1]
acts = {"relu": lambda v: np.maximum(v, 0), "identity": lambda v: v, "tanh": np.tanh,
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "leaky_relu": lambda v: np.where(v > 0, v, np.float32(0.01) * v)}


def load(name):
    doc = msgpack.unpackb(bytes.fromhex(open(f"{work}/{name}.hex").read().strip()), raw=False)
    assert doc["format"] == "anomaly-model" and doc["format_version"] == 1, doc.get("format")
    return doc


def encode(doc, row):
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


def scaled(doc, row):
    x = (encode(doc, row) - np.array(doc["scaler"]["offset"])) / np.array(doc["scaler"]["scale"])
    return np.clip(x, -1e6, 1e6).astype(np.float32)


def f32(b):
    return np.frombuffer(b, "<f4")


def reconstruction_error(network, x):
    h = x
    for layer in network["layers"]:
        h = h @ f32(layer["weight"]).reshape(layer["out"], layer["in"]).T
        if "bias" in layer:
            h = h + f32(layer["bias"])
        h = acts[layer["activation"]](h)
    return float(np.mean((h.astype(np.float64) - x) ** 2))


def autoencoder(state, x):
    # one "network", or the mean over "networks" (the default, seven)
    networks = state["networks"] if "networks" in state else [state["network"]]
    return sum(reconstruction_error(n, x) for n in networks) / len(networks)


def pca(state, x):
    z = x.astype(np.float64) - f32(state["mean"])
    comps = f32(state["components"]).reshape(state["n_components"], -1)
    return float(np.sum((comps @ z) ** 2 / np.array(state["eigenvalues"])))


def c(n):
    return 0.0 if n <= 1 else 1.0 if n == 2 else 2 * (math.log(n - 1) + 0.5772156649) - 2 * (n - 1) / n


def iforest(state, x):
    nodes = np.frombuffer(state["nodes"], "<i4")
    feature = np.frombuffer(state["feature"], "<i4")
    threshold = f32(state["threshold"])
    child = np.frombuffer(state["child_or_size"], "<i4")
    low, high = f32(state["low"]), f32(state["high"])
    total, base = 0.0, 0
    for t in range(state["n_trees"]):
        i, edges, stay, h = 0, 0, 1.0, 0.0
        while feature[base + i] >= 0:
            j = feature[base + i]
            v = float(x[j])
            p = (v - high[j]) / (v - low[j]) if v > high[j] else \
                (low[j] - v) / (high[j] - v) if v < low[j] else 0.0
            h += stay * p * (edges + 1)
            stay *= 1 - p
            i = child[base + i] + (0 if x[j] <= threshold[base + i] else 1)
            edges += 1
        total += h + stay * (edges + c(child[base + i]))
        base += nodes[t]
    norm = c(state["sample_size"]) if state["sample_size"] >= 2 else 1.0
    return 2.0 ** (-total / state["n_trees"] / norm)


def auto(state, x):
    groups = {}
    for m in state["members"]:
        s = METHODS[m["method"]](m["state"], x)
        if m["log_offset"] > 0:
            s = math.log(max(s, 0.0) + m["log_offset"])
        groups.setdefault(m["method"], []).append((s - m["center"]) / m["scale"])
    z = [sum(v) / len(v) for v in groups.values()]
    return max(z) if state["combine"] == "max" else sum(z) / len(z)


METHODS = {"autoencoder": autoencoder, "pca": pca, "iforest": iforest, "auto": auto}
ok = True
for name, column in (("pyr", 4), ("pyr_auto", 5)):
    doc = load(name)
    worst, n = 0.0, 0
    for row in csv.reader(open(f"{work}/rows.csv")):
        score = METHODS[doc["method"]](doc["state"], scaled(doc, row[:4]))
        sql = float(row[column])
        worst = max(worst, abs(score - sql) / max(abs(sql), 1.0 if doc["method"] == "auto" else 1e-12))
        n += 1
    print(f"{name} ({doc['method']}): {n} rows rescored in Python from the msgpack document; "
          f"worst relative difference {worst:.2e}")
    ok = ok and n == 840 and worst < 1e-4
sys.exit(0 if ok else 1)
PY
