package server

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisRESP3: go-redis in its default protocol, RESP3 (it says
// HELLO 3 on connecting), reads walrus's maps, sets, doubles and pushes
// into the same values as from Redis.
func TestGoRedisRESP3(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 3, MaxRetries: -1})
		defer c.Close()
		if proto := c.Do(ctx, "HELLO", "3").Val().(map[any]any)["proto"]; proto != int64(3) {
			t.Fatalf("HELLO 3 proto %v", proto)
		}
		check := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %#v, want %#v", what, got, want)
			}
		}
		c.HSet(ctx, "h", "a", "1", "b", "2")
		check("HGETALL", c.HGetAll(ctx, "h").Val(), map[string]string{"a": "1", "b": "2"})
		check("HGETALL raw", c.Do(ctx, "HGETALL", "h").Val(), map[any]any{"a": "1", "b": "2"})
		c.SAdd(ctx, "s", "x", "y")
		members, _ := c.Do(ctx, "SMEMBERS", "s").Slice()
		check("SMEMBERS count", len(members), 2)
		c.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: 2, Member: "m2"})
		check("ZSCORE", c.ZScore(ctx, "z", "m1").Val(), 1.5)
		check("ZSCORE raw", c.Do(ctx, "ZSCORE", "z", "m1").Val(), 1.5)
		check("ZINCRBY", c.ZIncrBy(ctx, "z", 1, "m1").Val(), 2.5)
		check("ZRANGE WITHSCORES", c.ZRangeWithScores(ctx, "z", 0, -1).Val(),
			[]redis.Z{{Score: 2, Member: "m2"}, {Score: 2.5, Member: "m1"}})
		check("ZPOPMIN", c.ZPopMin(ctx, "z").Val(), []redis.Z{{Score: 2, Member: "m2"}})
		check("missing GET", c.Get(ctx, "missing").Err(), redis.Nil)
		id := c.XAdd(ctx, &redis.XAddArgs{Stream: "st", ID: "1-1", Values: []string{"f", "v"}}).Val()
		streams := c.XRead(ctx, &redis.XReadArgs{Streams: []string{"st", "0"}, Count: 1}).Val()
		check("XREAD", streams, []redis.XStream{{Stream: "st", Messages: []redis.XMessage{{ID: id, Values: map[string]any{"f": "v"}}}}})
		check("CONFIG GET", c.ConfigGet(ctx, "maxclients").Val(), map[string]string{"maxclients": "10000"})
		if info := c.Info(ctx, "server").Val(); len(info) < 20 {
			t.Fatalf("INFO: %q", info)
		}

		sub := c.Subscribe(ctx, "news")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		c.Publish(ctx, "news", "hello")
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		msg, err := sub.ReceiveMessage(rctx)
		if err != nil || msg.Channel != "news" || msg.Payload != "hello" {
			t.Fatalf("message %+v, %v", msg, err)
		}
	})
}
