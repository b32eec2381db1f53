package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// writers run g goroutines that each SET w<g>:<i> = i in order and record
// the highest i the server acknowledged, until stopped or an error.
type writers struct {
	acked []int64
	wg    sync.WaitGroup
	stop  chan struct{}
}

func startWriters(n *node, g int, prefix string) *writers {
	w := &writers{acked: make([]int64, g), stop: make(chan struct{})}
	for i := range w.acked {
		w.acked[i] = -1
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			ctx := context.Background()
			for j := int64(0); j < 1_000_000; j++ {
				select {
				case <-w.stop:
					return
				default:
				}
				key := fmt.Sprintf("%s%d:%d", prefix, i, j)
				if err := n.rdb.Set(ctx, key, strconv.FormatInt(j, 10), 0).Err(); err != nil {
					return
				}
				w.acked[i] = j
			}
		}()
	}
	return w
}

func (w *writers) halt() { close(w.stop); w.wg.Wait() }

// verify checks every acknowledged write is present with its value.
func (w *writers) verify(t *testing.T, n *node, prefix string) int {
	t.Helper()
	ctx := context.Background()
	total := 0
	for i, last := range w.acked {
		for j := int64(0); j <= last; j++ {
			key := fmt.Sprintf("%s%d:%d", prefix, i, j)
			v, err := n.rdb.Get(ctx, key).Result()
			if err != nil || v != strconv.FormatInt(j, 10) {
				t.Fatalf("acknowledged write %s lost after kill -9: got %q, %v", key, v, err)
			}
			total++
		}
	}
	return total
}

func TestKillNineKeepsEveryAcknowledgedWrite(t *testing.T) {
	n := startNode(t, "", "--appendonly", "yes", "--appendfsync", "always")
	rounds := 3
	total := 0
	for round := 0; round < rounds; round++ {
		prefix := fmt.Sprintf("r%d:w", round)
		w := startWriters(n, 4, prefix)
		waitFor(t, "writes to be acknowledged", 30*time.Second, func() bool { return w.acked[0] > 200 })
		n.kill9()
		w.halt()
		n.restart()
		total += w.verify(t, n, prefix)
	}
	t.Logf("%d kill -9 rounds, %d acknowledged writes checked, 0 lost", rounds, total)
}

func TestCleanRestartKeepsDigestOf100kKeys(t *testing.T) {
	n := startNode(t, "")
	count := 100_000
	if testing.Short() {
		count = 10_000
	}
	fill(t, n, "key:", count)
	n.must("HELLO", "2")
	n.must("SELECT", "0")
	before := n.digest()
	n.stop()
	n.restart()
	if got := n.digest(); got != before {
		t.Fatalf("digest after restart %s, before %s", got, before)
	}
	if got := n.rdb.DBSize(context.Background()).Val(); got != int64(count) {
		t.Fatalf("DBSIZE %d, want %d", got, count)
	}
}
