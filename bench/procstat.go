package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// ReadCPU returns the CPU time (user + system) the process has used so far,
// from /proc/<pid>/stat. Resolution is 10ms.
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu of pid %d: %w", pid, err)
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields", len(f)+2)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc stat: utime %q stime %q", f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// ReadPSS returns the proportional set size of the process in bytes, from
// the Pss line of /proc/<pid>/smaps_rollup.
func ReadPSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, fmt.Errorf("read pss of pid %d: %w", pid, err)
	}
	defer f.Close()
	return parsePSS(f)
}

func parsePSS(f io.Reader) (int64, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "Pss:") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 2 {
			break
		}
		kb, err := strconv.ParseInt(fs[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse Pss %q: %w", line, err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("parse smaps_rollup: %w", err)
	}
	return 0, fmt.Errorf("parse smaps_rollup: no Pss line")
}

// ReadRSS returns the resident set size of the process in bytes, from
// /proc/<pid>/statm: a read of the kernel's counters, cheap enough to
// sample often (unlike PSS, which walks every page table of the process).
func ReadRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0, fmt.Errorf("read rss of pid %d: %w", pid, err)
	}
	return parseStatmRSS(b, os.Getpagesize())
}

// parseStatmRSS reads the resident field (the second, in pages) of a
// /proc/<pid>/statm line.
func parseStatmRSS(b []byte, pageSize int) (int64, error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("parse statm: %d fields", len(f))
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse statm resident %q: %w", f[1], err)
	}
	return pages * int64(pageSize), nil
}

// Usage is what a process consumed during a measured phase.
type Usage struct {
	CPU     time.Duration // user + system CPU time used in the phase
	PeakRSS int64         // highest RSS sampled in the phase, bytes
	PSS     int64         // PSS at the end of the phase, bytes (0: unknown)
}

// memSampler samples a process's RSS every memSampleInterval and keeps
// the peak. It samples RSS, not PSS: the kernel walks every page table of
// the process for its PSS, which for a server of half a gigabyte takes
// tens of milliseconds of CPU with the process's memory map locked, and
// sampled every interval that disturbs the latencies being measured. It
// owns one goroutine, started by startMemSampler and stopped by finish.
type memSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex // guards peak
	peak int64
}

const memSampleInterval = 100 * time.Millisecond

func startMemSampler(pid int) *memSampler {
	s := &memSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(memSampleInterval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *memSampler) sample() {
	rss, err := ReadRSS(s.pid)
	if err != nil {
		return // the process may have exited; the peak so far stands
	}
	s.mu.Lock()
	s.peak = max(s.peak, rss)
	s.mu.Unlock()
}

// finish takes a last sample, stops the goroutine, waits for it and returns
// the peak RSS.
func (s *memSampler) finish() int64 {
	s.sample()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// measure runs fn while sampling the CPU time and RSS of the process, and
// reads its PSS once fn has returned (so the page walk stays out of fn's
// measurements).
func measure(p *Process, fn func() error) (Usage, error) {
	cpu0, err := ReadCPU(p.Pid())
	if err != nil {
		return Usage{}, err
	}
	ms := startMemSampler(p.Pid())
	ferr := fn()
	peak := ms.finish()
	pss, _ := ReadPSS(p.Pid()) // 0 if unreadable
	cpu1, err := ReadCPU(p.Pid())
	if err != nil && ferr == nil {
		ferr = err
	}
	return Usage{CPU: max(cpu1-cpu0, 0), PeakRSS: peak, PSS: pss}, ferr
}

// settle waits until the process has been idle, under idleCPU of CPU time
// in each of the last 8 windows of 250ms, so that a measurement starts
// from a server at rest rather than one still digesting a fill (Pebble
// compactions, an AOF rewrite). Two seconds outlast work a server starts
// only once it is quiet: walrus compacts L0 after a second without
// writes, and a wait of one second let the load begin just before that
// compaction was due in some rounds but not in others. It returns how
// long that took, and timeout if the process never came to rest.
func settle(pid int, timeout time.Duration) (time.Duration, error) {
	const (
		window  = 250 * time.Millisecond
		windows = 8
		idleCPU = window / 20 // 5% of one core
	)
	start := time.Now()
	last, err := ReadCPU(pid)
	if err != nil {
		return 0, err
	}
	for quiet := 0; quiet < windows; {
		if time.Since(start) >= timeout {
			return timeout, nil
		}
		time.Sleep(window)
		now, err := ReadCPU(pid)
		if err != nil {
			return 0, err
		}
		if now-last < idleCPU {
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	return time.Since(start), nil
}
