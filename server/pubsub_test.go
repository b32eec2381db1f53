package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPublishReachesChannelAndPatternSubscribers(t *testing.T) {
	s := startServer(t)
	sub := dialRaw(t, s.Addr().String())
	psub := dialRaw(t, s.Addr().String())
	pub := dialRaw(t, s.Addr().String())
	if got := sub.do("SUBSCRIBE", "news", "sport"); got != "[$subscribe $news :1]" {
		t.Fatalf("SUBSCRIBE first reply: %s", got)
	}
	if got, _ := sub.read(); got != "[$subscribe $sport :2]" {
		t.Fatalf("SUBSCRIBE second reply: %s", got)
	}
	if got := psub.do("PSUBSCRIBE", "n*"); got != "[$psubscribe $n* :1]" {
		t.Fatalf("PSUBSCRIBE: %s", got)
	}
	if got := pub.do("PUBLISH", "news", "hello"); got != ":2" {
		t.Fatalf("PUBLISH receivers: %s, want 2", got)
	}
	if got, _ := sub.read(); got != "[$message $news $hello]" {
		t.Fatalf("channel subscriber got %s", got)
	}
	if got, _ := psub.read(); got != "[$pmessage $n* $news $hello]" {
		t.Fatalf("pattern subscriber got %s", got)
	}
	if got := pub.do("PUBLISH", "other", "x"); got != ":0" {
		t.Fatalf("PUBLISH to nobody: %s", got)
	}
	if n := s.Publish([]byte("sport"), []byte("goal")); n != 1 {
		t.Fatalf("Publish returned %d, want 1", n)
	}
	if got, _ := sub.read(); got != "[$message $sport $goal]" {
		t.Fatalf("subscriber got %s from Publish", got)
	}
}

func TestSubscribeModeAllowsOnlyPubSubCommands(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	c.do("SUBSCRIBE", "ch")
	want := "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
	if got := c.do("GET", "k"); got != want {
		t.Fatalf("GET in subscribe mode: %s", got)
	}
	if got := c.do("PING"); got != "[$pong $]" {
		t.Fatalf("PING in subscribe mode: %s", got)
	}
	if got := c.do("UNSUBSCRIBE"); got != "[$unsubscribe $ch :0]" {
		t.Fatalf("UNSUBSCRIBE: %s", got)
	}
	// Back in normal mode, the (still detached) connection serves data.
	if got := c.do("SET", "k", "v"); got != "+OK" {
		t.Fatalf("SET after unsubscribing: %s", got)
	}
	if got := c.do("GET", "k"); got != "$v" {
		t.Fatalf("GET after unsubscribing: %s", got)
	}
	if got := c.do("UNSUBSCRIBE"); got != "[$unsubscribe (nil) :0]" {
		t.Fatalf("UNSUBSCRIBE with no subscription: %s", got)
	}
}

func TestPubSubIntrospection(t *testing.T) {
	s := startServer(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	a.do("SUBSCRIBE", "c1")
	b.do("SUBSCRIBE", "c1")
	b.do("SUBSCRIBE", "c2")
	if got := b.do("PSUBSCRIBE", "p*"); got != "[$psubscribe $p* :3]" {
		t.Fatalf("PSUBSCRIBE: %s", got)
	}
	q := dialRaw(t, s.Addr().String())
	if got := q.do("PUBSUB", "CHANNELS"); got != "[$c1 $c2]" {
		t.Fatalf("PUBSUB CHANNELS: %s", got)
	}
	if got := q.do("PUBSUB", "CHANNELS", "*2"); got != "[$c2]" {
		t.Fatalf("PUBSUB CHANNELS *2: %s", got)
	}
	if got := q.do("PUBSUB", "NUMSUB", "c1", "c2", "none"); got != "[$c1 :2 $c2 :1 $none :0]" {
		t.Fatalf("PUBSUB NUMSUB: %s", got)
	}
	if got := q.do("PUBSUB", "NUMPAT"); got != ":1" {
		t.Fatalf("PUBSUB NUMPAT: %s", got)
	}
	a.c.Close()
	waitFor(t, "closed subscriber to be forgotten", 5*time.Second, func() bool {
		return q.do("PUBSUB", "NUMSUB", "c1") == "[$c1 :1]"
	})
}

func TestSubscriberThatDoesNotReadIsDisconnectedPastTheLimit(t *testing.T) {
	s := startServer(t, "--client-output-buffer-limit", "pubsub 256kb 0 0")
	slow := dialRaw(t, s.Addr().String())
	slow.do("SUBSCRIBE", "firehose")
	pub := dialRaw(t, s.Addr().String())
	msg := strings.Repeat("x", 64<<10)
	gone := false
	for i := 0; i < 2000 && !gone; i++ { // bounded: 128 MB at most
		pub.send("PUBLISH", "firehose", msg)
		got, err := pub.read()
		if err != nil {
			t.Fatalf("PUBLISH %d: %v", i, err)
		}
		gone = got == ":0"
	}
	if !gone {
		t.Fatalf("a subscriber that never reads was not disconnected")
	}
	if got := pub.do("PUBSUB", "NUMSUB", "firehose"); got != "[$firehose :0]" {
		t.Fatalf("NUMSUB after the disconnect: %s", got)
	}
}

// TestClientListShowsASlowSubscribersOutput: CLIENT LIST's omem is the
// output a subscriber that stopped reading has waiting, and falls back
// to 0 once it reads it all.
func TestClientListShowsASlowSubscribersOutput(t *testing.T) {
	s := startServer(t, "--client-output-buffer-limit", "pubsub 0 0 0")
	slow := dialRaw(t, s.Addr().String())
	slow.do("CLIENT", "SETNAME", "slow")
	slow.do("SUBSCRIBE", "firehose")
	admin := dialRaw(t, s.Addr().String())
	omem := func() int {
		t.Helper()
		for _, line := range strings.Split(strings.TrimPrefix(admin.do("CLIENT", "LIST"), "$"), "\n") {
			if !strings.Contains(line, " name=slow ") {
				continue
			}
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, "omem="); ok {
					n, _ := strconv.Atoi(v)
					return n
				}
			}
		}
		t.Fatal("no omem for the subscriber in CLIENT LIST")
		return 0
	}
	const n, size = 640, 64 << 10 // 40 MiB: more than the kernel's socket buffers hold
	msg := strings.Repeat("x", size)
	for range n {
		admin.send("PUBLISH", "firehose", msg)
	}
	for range n {
		admin.expectRead(":1")
	}
	if got := omem(); got < 8<<20 {
		t.Fatalf("omem %d with %d MiB published to a subscriber that reads nothing", got, n*size>>20)
	}
	for range n {
		if _, err := slow.read(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "omem back to 0", 10*time.Second, func() bool { return omem() == 0 })
}

// TestShardedPubSub: shard channels are a namespace of their own, with
// their own counts and introspection, against both servers.
func TestShardedPubSub(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		sub, pub := dialRaw(t, addr), dialRaw(t, addr)
		id := strings.TrimPrefix(sub.do("CLIENT", "ID"), ":")
		sub.send("SSUBSCRIBE", "a", "b")
		sub.expectRead("[$ssubscribe $a :1]")
		sub.expectRead("[$ssubscribe $b :2]")
		sub.expect("[$subscribe $c :1]", "SUBSCRIBE", "c")
		sub.expect("[$psubscribe $a* :2]", "PSUBSCRIBE", "a*")
		sub.expect("[$ssubscribe $a :2]", "SSUBSCRIBE", "a")
		line := pub.do("CLIENT", "LIST", "ID", id)
		for _, want := range []string{" flags=P ", " sub=1 psub=1 ssub=2 "} {
			if !strings.Contains(line, want) {
				t.Errorf("CLIENT LIST of the subscriber = %q, without %q", line, want)
			}
		}

		pub.expect(":1", "SPUBLISH", "a", "hi")
		sub.expectRead("[$smessage $a $hi]")
		pub.expect(":0", "SPUBLISH", "c", "x") // channels and patterns do not hear it
		pub.expect(":1", "PUBLISH", "c", "x")
		sub.expectRead("[$message $c $x]")
		pub.expect(":0", "PUBLISH", "b", "y") // nor do shard subscribers hear PUBLISH
		pub.expect(":1", "PUBLISH", "a", "z")
		sub.expectRead("[$pmessage $a* $a $z]")

		if got := sortedReply(pub.do("PUBSUB", "SHARDCHANNELS")); got != "[$a $b]" { // in no set order
			t.Errorf("PUBSUB SHARDCHANNELS = %q", got)
		}
		pub.expect("[$b]", "PUBSUB", "SHARDCHANNELS", "b*")
		pub.expect("[$a :1 $zz :0]", "PUBSUB", "SHARDNUMSUB", "a", "zz")
		pub.expect("[$c]", "PUBSUB", "CHANNELS")
		pub.expect("[$a :0]", "PUBSUB", "NUMSUB", "a")

		sub.expect("[$sunsubscribe $a :1]", "SUNSUBSCRIBE", "a")
		sub.expect("[$sunsubscribe $b :0]", "SUNSUBSCRIBE")
		sub.expect("[$sunsubscribe (nil) :0]", "SUNSUBSCRIBE")
		sub.expect("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", "GET", "x")
		sub.send("UNSUBSCRIBE")
		sub.expectRead("[$unsubscribe $c :1]")
		sub.expect("[$punsubscribe $a* :0]", "PUNSUBSCRIBE")
		sub.expect("[$ssubscribe $only :1]", "SSUBSCRIBE", "only")
		sub.expect("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", "GET", "x")
		sub.expect("[$sunsubscribe $only :0]", "SUNSUBSCRIBE", "only")
		sub.expect("(nil)", "GET", "x")
		pub.expect("[]", "PUBSUB", "SHARDCHANNELS")
	})
}

// TestPubSubRESP3: in RESP3, (un)subscriptions and messages are pushes,
// and a subscriber may run any command, as in Redis.
func TestPubSubRESP3(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		sub := dialRaw(t, addr)
		sub.do("HELLO", "3")
		sub.send("SUBSCRIBE", "ch", "ch2")
		expectNext(t, sub, "[$subscribe $ch :1]", ">($$:)")
		expectNext(t, sub, "[$subscribe $ch2 :2]", ">($$:)")
		sub.send("PSUBSCRIBE", "c*")
		expectNext(t, sub, "[$psubscribe $c* :3]", ">($$:)")
		sub.send("SET", "k", "v")
		expectNext(t, sub, "+OK", "+")
		sub.send("GET", "k")
		expectNext(t, sub, "$v", "$")
		expectQuiet(t, sub)
		pub := dialRaw(t, addr)
		pub.expect(":2", "PUBLISH", "ch", "hello")
		expectNext(t, sub, "[$message $ch $hello]", ">($$$)")
		expectNext(t, sub, "[$pmessage $c* $ch $hello]", ">($$$$)")
		// Its own PUBLISH: the messages come before the reply, as in Redis.
		sub.send("PUBLISH", "ch", "mine")
		expectNext(t, sub, "[$message $ch $mine]", ">($$$)")
		expectNext(t, sub, "[$pmessage $c* $ch $mine]", ">($$$$)")
		expectNext(t, sub, ":2", ":")
		sub.send("UNSUBSCRIBE", "ch")
		expectNext(t, sub, "[$unsubscribe $ch :2]", ">($$:)")
		sub.send("UNSUBSCRIBE")
		expectNext(t, sub, "[$unsubscribe $ch2 :1]", ">($$:)")
		sub.send("PUNSUBSCRIBE")
		expectNext(t, sub, "[$punsubscribe $c* :0]", ">($$:)")
		sub.send("SUNSUBSCRIBE")
		expectNext(t, sub, "[$sunsubscribe (nil) :0]", ">($:_)")
	})
}
