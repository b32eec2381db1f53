package engine

import (
	"bytes"
	"math"
	"sort"
	"testing"
)

func TestSortableScoresOrderAsNumbers(t *testing.T) {
	scores := []float64{math.Inf(-1), -1e300, -2.5, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 0.1, 1, 2.5, 1e300, math.Inf(1)}
	enc := make([][]byte, len(scores))
	for i, f := range scores {
		enc[i] = zScoreKey(nil, f, nil)
	}
	if !sort.SliceIsSorted(enc, func(i, j int) bool { return bytes.Compare(enc[i], enc[j]) < 0 }) {
		t.Fatalf("encoded scores are not in numeric order")
	}
	if !bytes.Equal(zScoreKey(nil, math.Copysign(0, -1), nil), zScoreKey(nil, 0, nil)) {
		t.Fatalf("-0 and +0 encode differently")
	}
}

func TestSortedSetCommandsFollowRedis(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	runSteps(t, e, s, []step{
		{"ZADD z 1 a 2 b -inf lo +inf hi -3.5 neg", "(integer) 5"},
		{"ZRANGE z 0 -1 WITHSCORES", "[lo -inf neg -3.5 a 1 b 2 hi inf]"},
		{"ZRANK z a", "(integer) 2"},
		{"ZREVRANK z a", "(integer) 2"},
		{"ZRANGEBYSCORE z (1 +inf", "[b hi]"},
		{"ZREVRANGEBYSCORE z 2 -inf LIMIT 1 2", "[a neg]"},
		{"ZADD z XX GT CH 0 a 5 b", "(integer) 1"},
		{"ZINCRBY z 0.5 a", "1.5"},
		{"ZCOUNT z -inf (5", "(integer) 3"},
		{"ZPOPMIN z 2", "[lo -inf neg -3.5]"},
		{"ZADD z NX XX 1 a", "(error) ERR XX and NX options at the same time are not compatible"},
		{"ZADD l 0 a 0 b 0 c 0 d", "(integer) 4"},
		{"ZRANGEBYLEX l [b (d", "[b c]"},
		{"ZREVRANGEBYLEX l + - LIMIT 0 2", "[d c]"},
		{"ZLEXCOUNT l - +", "(integer) 4"},
		{"ZREMRANGEBYLEX l - [b", "(integer) 2"},
		{"ZUNIONSTORE u 2 z l WEIGHTS 2 1", "(integer) 5"},
		{"ZRANGE u 0 -1 WITHSCORES", "[c 0 d 0 a 3 b 10 hi inf]"},
		{"ZCARD u", "(integer) 5"},
		// -0 against 0: the score held stays unless the other is strictly
		// larger (smaller), as in Redis.
		{"ZUNION 2 l l WEIGHTS -1 1 AGGREGATE MAX WITHSCORES", "[c -0 d -0]"},
		{"ZUNION 2 l l WEIGHTS 1 -1 AGGREGATE MIN WITHSCORES", "[c 0 d 0]"},
		{"SET str x", "OK"},
		{"ZADD str 1 a", "(error) WRONGTYPE Operation against a key holding the wrong kind of value"},
	})
}
