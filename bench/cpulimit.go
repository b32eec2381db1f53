package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// A cpuLimit is a cgroup of its own for one server process, with a CPU
// quota: Config.ServerCPUs caps every server at the same share of the
// machine, as if each ran on a machine of that size. That is how a small
// machine can show what spreading reads over replicas buys (readscale):
// uncapped, three servers and the clients just share the same cores.
type cpuLimit struct {
	dir string
}

// cgroupRoots are where the CPU controller may be mounted: the cgroup v1
// cpu hierarchy, or the cgroup v2 unified root.
var cgroupRoots = []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup"}

// cgroupSeq names the cgroups this process creates.
var cgroupSeq atomic.Int64

// ErrNoCPUCgroup reports that no writable cgroup CPU controller was found
// (capping servers needs root, or a delegated cgroup).
var ErrNoCPUCgroup = errors.New("no writable cgroup cpu controller (capping server CPUs needs root)")

// limitCPU moves pid into a new cgroup allowed cpus CPUs' worth of time
// in every 100 ms period. Threads the process starts later stay in it.
func limitCPU(pid int, cpus float64) (*cpuLimit, error) {
	if cpus <= 0 {
		return nil, fmt.Errorf("cpu cap %v: must be above 0", cpus)
	}
	const period = 100_000 // µs
	quota := int64(cpus * period)
	name := fmt.Sprintf("walrus-bench-%d-%d", os.Getpid(), cgroupSeq.Add(1))
	var errs []error
	for _, root := range cgroupRoots {
		v1 := fileExists(filepath.Join(root, "cpu.cfs_quota_us"))
		v2 := !v1 && controllerEnabled(root, "cpu")
		if !v1 && !v2 {
			continue
		}
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		l := &cpuLimit{dir: dir}
		var err error
		if v1 {
			err = writeFile(dir, "cpu.cfs_period_us", strconv.Itoa(period))
			if err == nil {
				err = writeFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
			}
		} else {
			err = writeFile(dir, "cpu.max", fmt.Sprintf("%d %d", quota, period))
		}
		if err == nil {
			err = writeFile(dir, "cgroup.procs", strconv.Itoa(pid))
		}
		if err != nil {
			l.remove()
			errs = append(errs, err)
			continue
		}
		return l, nil
	}
	return nil, errors.Join(append([]error{ErrNoCPUCgroup}, errs...)...)
}

// remove deletes the cgroup; its process must have exited.
func (l *cpuLimit) remove() error {
	if err := os.Remove(l.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove cgroup %s: %w", l.dir, err)
	}
	return nil
}

// controllerEnabled reports whether a cgroup v2 root lets its children
// use controller, enabling it for them if it is available.
func controllerEnabled(root, controller string) bool {
	b, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil || !slices.Contains(strings.Fields(string(b)), controller) {
		return false
	}
	b, err = os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
	if err == nil && slices.Contains(strings.Fields(string(b)), controller) {
		return true
	}
	return writeFile(root, "cgroup.subtree_control", "+"+controller) == nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func writeFile(dir, name, value string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	return nil
}
