package server

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisScriptHelpers drives the new commands through go-redis's own
// helpers, as applications call them: Script.Run (EVALSHA, then EVAL
// when the script is not cached yet), FunctionLoad and FCall, PFAdd and
// PFCount, BitField.
func TestGoRedisScriptHelpers(t *testing.T) {
	ctx := context.Background()
	rdb := goRedis(t, startServer(t))

	incr := redis.NewScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
	for want := int64(5); want <= 10; want += 5 {
		got, err := incr.Run(ctx, rdb, []string{"counter"}, 5).Int64()
		if err != nil || got != want {
			t.Fatalf("Script.Run = %d, %v; want %d", got, err, want)
		}
	}
	if exists, err := rdb.ScriptExists(ctx, incr.Hash()).Result(); err != nil || !exists[0] {
		t.Fatalf("SCRIPT EXISTS after Run = %v, %v", exists, err)
	}

	lib := "#!lua name=golib\nredis.register_function('double', function(keys, args) return tonumber(args[1]) * 2 end)"
	if name, err := rdb.FunctionLoad(ctx, lib).Result(); err != nil || name != "golib" {
		t.Fatalf("FunctionLoad = %q, %v", name, err)
	}
	if got, err := rdb.FCall(ctx, "double", nil, 21).Int64(); err != nil || got != 42 {
		t.Fatalf("FCall = %d, %v", got, err)
	}

	if _, err := rdb.PFAdd(ctx, "visitors", "a", "b", "c", "a").Result(); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.PFCount(ctx, "visitors").Result(); err != nil || n != 3 {
		t.Fatalf("PFCount = %d, %v; want 3", n, err)
	}

	got, err := rdb.BitField(ctx, "bf", "SET", "u8", 0, 200, "INCRBY", "u8", 0, 100, "GET", "u8", 0).Result()
	if err != nil || len(got) != 3 || got[0] != 0 || got[1] != 44 || got[2] != 44 {
		t.Fatalf("BitField = %v, %v; want [0 44 44]", got, err)
	}
}
