package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Segment files are named by their first index, %020d, as tidwall/wal names
// them. Two more names appear in a log directory, both ours:
//
//	%020d.RESET  an interrupted Reset(index): Open finishes it
//	*.TEMP       a file being written; removed at Open
const (
	segmentNameLen = 20
	resetSuffix    = ".RESET"
	tempSuffix     = ".TEMP"
	filePerm       = 0o640
	dirPerm        = 0o750
)

// CorruptError says where a damaged record is. It wraps ErrCorrupt.
type CorruptError struct {
	File   string // path of the segment file
	Offset int64  // byte offset of the record in the file
	Reason string // what is wrong with it
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("segment %s offset %d: %v: %s", e.File, e.Offset, ErrCorrupt, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) hold.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func segmentName(index uint64) string { return fmt.Sprintf("%020d", index) }

func segmentPath(dir string, index uint64) string {
	return filepath.Join(dir, segmentName(index))
}

// parseIndexName parses a %020d prefix; ok is false for any other name.
func parseIndexName(name string) (uint64, bool) {
	if len(name) < segmentNameLen {
		return 0, false
	}
	for _, c := range name[:segmentNameLen] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseUint(name[:segmentNameLen], 10, 64)
	if err != nil || i == 0 {
		return 0, false
	}
	return i, true
}

// dirListing is what a log directory holds.
type dirListing struct {
	segs    []uint64 // first indexes of segment files, ascending
	resets  []uint64 // pending Reset markers
	temps   []string // leftover temporary files (names)
	foreign []string // tidwall/wal START/END files: never written by this package
}

func listDir(dir string) (dirListing, error) {
	var l dirListing
	ents, err := os.ReadDir(dir)
	if err != nil {
		return l, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if strings.HasSuffix(name, tempSuffix) {
			l.temps = append(l.temps, name)
			continue
		}
		idx, ok := parseIndexName(name)
		if !ok {
			continue
		}
		switch name[segmentNameLen:] {
		case "":
			l.segs = append(l.segs, idx)
		case resetSuffix:
			l.resets = append(l.resets, idx)
		case ".START", ".END":
			l.foreign = append(l.foreign, name)
		}
	}
	sort.Slice(l.segs, func(i, j int) bool { return l.segs[i] < l.segs[j] })
	return l, nil
}

// syncDir fsyncs a directory so that file creations, renames and removals in
// it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// createEmptyFile creates (or empties) path and fsyncs it. The caller syncs
// the directory.
func createEmptyFile(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, filePerm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// prepareDir brings a log directory to a state tidwall/wal can open: stale
// temporary files removed, an interrupted Reset finished, and at least one
// segment file. It returns the segments' first indexes, ascending.
func prepareDir(dir string, log *slog.Logger) ([]uint64, error) {
	l, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	if len(l.foreign) > 0 {
		return nil, fmt.Errorf("%s holds %s: a tidwall/wal truncation this package never performs; not guessing how to finish it",
			dir, strings.Join(l.foreign, ", "))
	}
	for _, name := range l.temps {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("remove stale %s: %w", name, err)
		}
	}
	switch len(l.resets) {
	case 0:
	case 1:
		next := l.resets[0]
		if err := finishReset(dir, next, l.segs); err != nil {
			return nil, err
		}
		log.Info("wal: finished interrupted reset", "dir", dir, "first_index", next)
		return []uint64{next}, nil
	default:
		return nil, fmt.Errorf("%s holds %d reset markers; expected at most one", dir, len(l.resets))
	}
	if len(l.segs) == 0 {
		if err := createEmptyFile(segmentPath(dir, 1)); err != nil {
			return nil, err
		}
		if err := syncDir(dir); err != nil {
			return nil, err
		}
		l.segs = []uint64{1}
	}
	return l.segs, nil
}

// finishReset completes Reset(next) once its marker is durable: every segment
// goes, the marker becomes the one (empty) segment.
func finishReset(dir string, next uint64, segs []uint64) error {
	for _, s := range segs {
		if err := os.Remove(segmentPath(dir, s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reset: %w", err)
		}
	}
	if err := os.Rename(segmentPath(dir, next)+resetSuffix, segmentPath(dir, next)); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	return syncDir(dir)
}

// verifySegments checks every record of every segment and that each segment
// holds exactly the entries up to the next one's first index. A bad record in
// the last segment that no valid record follows is a torn tail: the file is
// cut there and fsynced. Anything else is a *CorruptError. It returns the
// size of the last segment after any cut.
func verifySegments(dir string, segs []uint64, log *slog.Logger) (tailSize int64, err error) {
	for i, first := range segs {
		path := segmentPath(dir, first)
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("read segment: %w", err)
		}
		sc := scanSegment(data)
		last := i == len(segs)-1
		if sc.bad >= 0 {
			switch {
			case !last:
				return 0, &CorruptError{path, int64(sc.bad), sc.badErr.Error()}
			case sc.validAfter >= 0:
				return 0, &CorruptError{path, int64(sc.bad),
					fmt.Sprintf("%v, yet a valid record follows at offset %d", sc.badErr, sc.validAfter)}
			case sc.undecided:
				return 0, &CorruptError{path, int64(sc.bad),
					fmt.Sprintf("%v, followed by %d bytes too long to tell from a torn tail", sc.badErr, len(data)-sc.bad)}
			}
			if err := cutFile(path, int64(sc.goodEnd)); err != nil {
				return 0, err
			}
			log.Warn("wal: cut torn tail", "file", path, "offset", sc.goodEnd,
				"bytes", len(data)-sc.goodEnd, "reason", sc.badErr.Error(),
				"last_index", first+uint64(sc.records)-1)
		}
		if !last && uint64(sc.records) != segs[i+1]-first {
			return 0, &CorruptError{path, int64(sc.goodEnd),
				fmt.Sprintf("holds %d entries from index %d but the next segment starts at %d",
					sc.records, first, segs[i+1])}
		}
		tailSize = int64(sc.goodEnd)
	}
	return tailSize, nil
}

// cutFile truncates path to size and fsyncs it.
func cutFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, filePerm)
	if err != nil {
		return fmt.Errorf("cut torn tail: %w", err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cut torn tail of %s: %w", path, err)
	}
	return nil
}

// locateRecord finds the byte offset of the n-th record (from 0) of a segment
// file, for error messages. If an earlier record is already bad it returns
// that record's offset and what is wrong with it.
func locateRecord(path string, n uint64) (int64, string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1, err.Error()
	}
	off := 0
	for k := uint64(0); ; k++ {
		_, size, err := decodeRecord(data[off:])
		if err != nil {
			return int64(off), err.Error()
		}
		if k == n {
			return int64(off), ""
		}
		off += size
	}
}
