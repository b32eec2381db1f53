package server

import "testing"

// TestHelpTextsMatchRedis: every container command's HELP gives Redis
// 7.0's text, line for line (DEBUG's lists only what walrus serves).
func TestHelpTextsMatchRedis(t *testing.T) {
	r := dialRaw(t, redisServer(t))
	w := dialRaw(t, startServer(t).Addr().String())
	for _, cmd := range []string{"ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "FUNCTION", "LATENCY",
		"MEMORY", "MODULE", "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG", "XGROUP", "XINFO"} {
		if got, want := w.do(cmd, "HELP"), r.do(cmd, "HELP"); got != want {
			t.Errorf("%s HELP:\nwalrus %q\nredis  %q", cmd, got, want)
		}
	}
}
