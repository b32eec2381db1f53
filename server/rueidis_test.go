package server

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// rueidis opens every connection in RESP3 with CLIENT TRACKING ON OPTIN
// and pipelines what its callers send at the same time: walrus must
// serve such a connection's pipelines whole and its cache as Redis does.

// rueidisClient connects to addr; closed at the end of the test.
func rueidisClient(t testing.TB, addr string, disableCache bool) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: disableCache, DisableRetry: true})
	if err != nil {
		t.Fatalf("rueidis %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestRueidisAgainstRedis: pipelines of every kind of reply read the
// same from walrus and Redis, and client-side caching works: a cached
// GET is served from the cache until another client writes the key.
func TestRueidisAgainstRedis(t *testing.T) {
	ctx := context.Background()
	var results [][]string // walrus's, then Redis's
	for _, addr := range []string{startServer(t).Addr().String(), redisServer(t)} {
		c := rueidisClient(t, addr, false)
		other := rueidisClient(t, addr, true)
		if err := c.Do(ctx, c.B().Flushall().Build()).Error(); err != nil {
			t.Fatal(err)
		}
		var cmds rueidis.Commands
		for i := 0; i < 300; i++ {
			k := "k" + strconv.Itoa(i%7)
			switch i % 6 {
			case 0:
				cmds = append(cmds, c.B().Set().Key(k).Value(strconv.Itoa(i)).Build())
			case 1:
				cmds = append(cmds, c.B().Get().Key(k).Build())
			case 2:
				cmds = append(cmds, c.B().Hset().Key("h"+k).FieldValue().FieldValue("f"+strconv.Itoa(i), "v").Build())
			case 3:
				cmds = append(cmds, c.B().Hmget().Key("h"+k).Field("f2", "f"+strconv.Itoa(i-1), "f9").Build())
			case 4:
				cmds = append(cmds, c.B().Zadd().Key("z").ScoreMember().ScoreMember(float64(i)/4, k).Build())
			default:
				cmds = append(cmds, c.B().Zrange().Key("z").Min("0").Max("-1").Withscores().Build())
			}
		}
		var got []string
		for _, r := range c.DoMulti(ctx, cmds...) {
			m, err := r.ToMessage()
			got = append(got, m.String()+" "+errString(err))
		}

		// The first cached read misses and the second hits; another
		// client's write invalidates it, and the next read misses again.
		cached := func() (string, bool) {
			r := c.DoCache(ctx, c.B().Get().Key("k1").Cache(), time.Minute)
			v, err := r.ToString()
			if err != nil {
				t.Fatalf("%s: cached GET: %v", addr, err)
			}
			return v, r.IsCacheHit()
		}
		v1, hit1 := cached()
		v2, hit2 := cached()
		if err := other.Do(ctx, other.B().Set().Key("k1").Value("changed").Build()).Error(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		v3, hit3 := cached()
		for v3 != "changed" && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			v3, hit3 = cached()
		}
		got = append(got, v1, strconv.FormatBool(hit1), v2, strconv.FormatBool(hit2), v3, strconv.FormatBool(hit3))
		if hit1 || !hit2 || v2 != v1 || hit3 || v3 != "changed" {
			t.Errorf("%s: cached GET read %q (hit %v), %q (hit %v), then after another client's SET %q (hit %v)", addr, v1, hit1, v2, hit2, v3, hit3)
		}
		results = append(results, got)
	}
	for i := range results[0] {
		if results[0][i] != results[1][i] {
			t.Fatalf("reply %d: walrus %s\nredis %s", i, results[0][i], results[1][i])
		}
	}
	if len(results[0]) != len(results[1]) {
		t.Fatalf("%d replies from walrus, %d from Redis", len(results[0]), len(results[1]))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// BenchmarkRueidisPipeline: pipelines of 100 SETs from rueidis, whose
// connections track keys (walrus serves them off redcon's loop, as it
// does subscribers) unless its cache is off. An op is one pipeline.
func BenchmarkRueidisPipeline(b *testing.B) {
	addr := startServer(b).Addr().String()
	for _, tracking := range []bool{true, false} {
		b.Run("tracking="+strconv.FormatBool(tracking), func(b *testing.B) {
			c := rueidisClient(b, addr, !tracking)
			ctx := context.Background()
			cmds := make(rueidis.Commands, 100)
			b.ResetTimer()
			for range b.N {
				for i := range cmds {
					cmds[i] = c.B().Set().Key("k" + strconv.Itoa(i)).Value("v").Build()
				}
				for _, r := range c.DoMulti(ctx, cmds...) {
					if err := r.Error(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
