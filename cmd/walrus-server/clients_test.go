package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// redis-py, unchanged, against walrus: connection handshake, strings,
// pipelines, transactions, INFO parsing.
const redisPyScript = `
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), decode_responses=True)
assert r.ping()
assert r.set("key1", "val1")
assert r.get("key1") == "val1"
assert r.incr("n") == 1 and r.incrbyfloat("f", 1.5) == 1.5
p = r.pipeline(transaction=True)
p.set("a", "1").incr("a").get("a")
assert p.execute() == [True, 2, "2"], "transaction"
p = r.pipeline(transaction=False)
for i in range(100):
    p.set("k%d" % i, i)
assert all(p.execute())
assert r.dbsize() == 104
assert r.info("server")["redis_version"] == "7.0.15"
assert r.info("replication")["role"] == "master"
assert r.expire("key1", 100) and 0 < r.ttl("key1") <= 100
keys = set()
for k in r.scan_iter(match="k[0-9]*", count=7):
    keys.add(k)
assert len(keys) == 100, len(keys)
print("ok")
`

func TestRedisPyDrivesWalrus(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
		if os.Getenv("WALRUS_CI") != "" {
			t.Fatalf("redis-py is required in CI but %s cannot import it: %v", py, err)
		}
		t.Skip("redis-py not installed: test skipped (apt-get install python3-redis)")
	}
	n := startNode(t, "")
	out, err := exec.Command(py, "-c", redisPyScript, strconv.Itoa(n.port)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("redis-py script failed: %v\n%s", err, out)
	}
}
