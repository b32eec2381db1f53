package bench

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func arrayReply(elems ...string) Reply {
	r := Reply{Kind: '*', Array: []Reply{}}
	for _, e := range elems {
		r.Array = append(r.Array, Reply{Kind: '$', Str: e})
	}
	return r
}

func TestReadScaleDataSortsNumerically(t *testing.T) {
	d := newReadScaleData()
	if len(d.list) != readScaleLen || len(d.members) != readScaleLen || len(d.sorted) != readScaleLen {
		t.Fatalf("lengths %d %d %d, want %d", len(d.list), len(d.members), len(d.sorted), readScaleLen)
	}
	seen := map[string]bool{}
	for _, m := range d.members {
		if seen[m] {
			t.Fatalf("member %s twice: SADD would keep fewer than %d", m, readScaleLen)
		}
		seen[m] = true
	}
	if err := checkReadReply(arrayReply(d.sorted...), d.sorted, true); err != nil {
		t.Fatalf("the expected SORT reply fails its own check: %v", err)
	}
	if err := checkReadReply(arrayReply(d.list...), d.list, false); err != nil {
		t.Fatalf("the expected LRANGE reply fails its own check: %v", err)
	}
	// The members' lexical order is not their numeric order, so a server
	// sorting as strings (SORT ... ALPHA) is caught.
	lex := append([]string(nil), d.members...)
	slices.Sort(lex)
	if strings.Join(lex, " ") == strings.Join(d.sorted, " ") {
		t.Fatal("lexical and numeric order agree: the data cannot catch an ALPHA sort")
	}
	if err := checkReadReply(arrayReply(lex...), d.sorted, true); !errors.Is(err, ErrBadRead) {
		t.Errorf("lexically sorted reply: %v, want ErrBadRead", err)
	}
}

func TestReadScaleCheckRejectsMalformedReplies(t *testing.T) {
	d := newReadScaleData()
	swapped := append([]string(nil), d.sorted...)
	swapped[3], swapped[4] = swapped[4], swapped[3]
	wrong := append([]string(nil), d.list...)
	wrong[99] = "item:999"
	withNull := arrayReply(d.list...)
	withNull.Array[5] = Reply{Kind: '$', Null: true}
	notInt := append([]string(nil), d.sorted...)
	notInt[0] = "x"
	for _, tc := range []struct {
		name    string
		r       Reply
		want    []string
		numeric bool
		text    string
	}{
		{"error reply", Reply{Kind: '-', Str: "READONLY You can't write against a read only replica."}, d.sorted, true, "READONLY"},
		{"null array", Reply{Kind: '*', Null: true}, d.list, false, "want an array"},
		{"integer", Reply{Kind: ':', Int: 100}, d.list, false, "want an array"},
		{"short list", arrayReply(d.list[:99]...), d.list, false, "99 elements, want 100"},
		{"empty sort", arrayReply(), d.sorted, true, "0 elements, want 100"},
		{"not ascending", arrayReply(swapped...), d.sorted, true, "not in ascending order"},
		{"not an integer", arrayReply(notInt...), d.sorted, true, "not an integer"},
		{"wrong element", arrayReply(wrong...), d.list, false, `element 99 is "item:999"`},
		{"null element", withNull, d.list, false, "want a bulk string"},
	} {
		err := checkReadReply(tc.r, tc.want, tc.numeric)
		if !errors.Is(err, ErrBadRead) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want ErrBadRead mentioning %q", tc.name, err, tc.text)
		}
	}
}

func TestReadScaleParamsAndDefaults(t *testing.T) {
	o := ReadScaleOptions{}.withDefaults()
	if o.Keys != 10_000 || o.Readers != 8 || o.Pipeline != 1 || o.Writers != 1 || o.WriterPipeline != 16 ||
		o.Duration != 5*time.Second || o.SortCommand != "SORT_RO" {
		t.Errorf("defaults %+v", o)
	}
	w := o.writerLoad()
	if w.Clients != 1 || w.Pipeline != 16 || w.KeySpace != o.Keys || w.Duration != o.Duration || w.Requests != 0 ||
		w.Workload.String() != "set" || !w.Workload.OnlyOverwrites() {
		t.Errorf("writer load %+v", w)
	}
	ps := Config{Scenario: ScenarioReadScale, ReadScale: ReadScaleOptions{Readers: 5, Pipeline: 4}}.params()
	var all []string
	for _, p := range ps {
		all = append(all, p.Name+"="+p.Value)
	}
	if s := strings.Join(all, "; "); !strings.Contains(s, "5 clients, pipeline 4") || !strings.Contains(s, "SORT_RO readscale:set") {
		t.Errorf("params %s", s)
	}
}

// runReadScaleOnce runs a short readscale against srv.
func runReadScaleOnce(t *testing.T, srv Server, o ReadScaleOptions) (*Report, error) {
	t.Helper()
	cfg := tinyConfig(ScenarioReadScale, srv)
	cfg.ReadScale.SortCommand = o.SortCommand
	cfg.ReadScale.Duration = 300 * time.Millisecond
	cfg.WorkDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return Run(ctx, cfg)
}

// redis-server refuses SORT on a replica (it is flagged as a write): the
// run must fail on the replicas' phase with the reply, not count it.
func TestReadScaleSortOnRedisReplicaFailsClearly(t *testing.T) {
	srv := redisOrSkip(t)
	_, err := runReadScaleOnce(t, srv, ReadScaleOptions{SortCommand: "sort"})
	if err == nil {
		t.Skip("this redis-server serves SORT on replicas")
	}
	t.Log(err)
	for _, want := range []string{"phase master+2 replicas", "SORT readscale:set", "READONLY"} {
		if !errors.Is(err, ErrBadRead) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %q: want ErrBadRead mentioning %q", err, want)
		}
	}
}

// walrus serves SORT without STORE on a read-only replica.
func TestReadScaleSortOnWalrusReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	rep, err := runReadScaleOnce(t, buildWalrus(t), ReadScaleOptions{SortCommand: "SORT"})
	if err != nil {
		t.Fatal(err)
	}
	checkSane(t, rep)
	if !strings.Contains(paramValue(rep, "readers"), "SORT "+readScaleSet) {
		t.Errorf("readers param %q does not name SORT", paramValue(rep, "readers"))
	}
}

func TestReadScaleRejectsAnotherSortCommand(t *testing.T) {
	_, err := runReadScale(context.Background(), &env{}, ReadScaleOptions{SortCommand: "SORT BY nosort"})
	if err == nil || !strings.Contains(err.Error(), "want SORT or SORT_RO") {
		t.Errorf("err %v", err)
	}
}

func paramValue(rep *Report, name string) string {
	for _, p := range rep.Params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}
