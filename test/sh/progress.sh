#!/usr/bin/env bash
# test/sh/progress.sh: anomaly.progress decides what training reports.
#
# notice: a NOTICE per epoch (of each network the autoencoder averages); log: no
# NOTICE, one LOG line per training
# (what a scheduled job's log should hold); off: nothing.
set -euo pipefail
train() {	# train PROGRESS: the client's messages of one training
	psql -X -q -v ON_ERROR_STOP=1 -At 2>&1 <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS prog;
CREATE TABLE prog AS SELECT i AS a, i % 7 AS b FROM generate_series(1, 300) i;
SELECT anomaly.anomaly_drop_model('prog', if_exists => true);
SET client_min_messages = log;
SET anomaly.progress = $1;
SELECT version FROM anomaly.anomaly_create_model('prog', 'prog', method => 'autoencoder', options => '{"epochs": 4, "early_stopping_patience": 0}');
SET client_min_messages = warning;
SELECT anomaly.anomaly_drop_model('prog');
DROP TABLE prog;
SQL
}
notice=$(train notice)
log=$(train log)
off=$(train off)
count() { printf '%s\n' "$1" | grep -c "$2" || true; }
echo "notice: $(count "$notice" 'NOTICE:.*epoch') epoch notices, $(count "$notice" 'LOG:  trained model') log lines"
echo "log:    $(count "$log" 'NOTICE:') notices, $(count "$log" 'LOG:  trained model') log lines"
echo "off:    $(count "$off" 'NOTICE:') notices, $(count "$off" 'LOG:  trained model') log lines"
# one NOTICE per epoch of each of the seven networks, the first network's last
[ "$(count "$notice" 'NOTICE:.*epoch 4/4')" = 7 ]
[ "$(count "$notice" 'NOTICE:  network 7 of 7 epoch 4/4')" = 1 ]
[ "$(count "$notice" 'NOTICE:  epoch 4/4')" = 1 ]
[ "$(count "$notice" 'LOG:  trained model')" = 0 ]
[ "$(count "$log" 'NOTICE:')" = 0 ]
[ "$(count "$log" 'LOG:  trained model "prog" version 1: autoencoder on 300 rows, 4 epochs')" = 1 ]
[ "$(count "$off" 'NOTICE:')" = 0 ]
[ "$(count "$off" 'LOG:  trained model')" = 0 ]
