package dataset

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// cifarRecord is the size of a CIFAR-10 binary record: a label byte, then
// the 32×32 red, green and blue planes.
const cifarRecord = 1 + 3*32*32

// cifarFiles returns the CIFAR-10 batches in dir: every data_batch_N.bin in
// increasing N, or else test_batch.bin; nil when dir holds neither.
func cifarFiles(dir string) ([]string, error) {
	found, err := filepath.Glob(filepath.Join(dir, "data_batch_*.bin"))
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", dir, err)
	}
	number := func(path string) int {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "data_batch_"), ".bin"))
		if err != nil {
			return -1
		}
		return n
	}
	slices.SortFunc(found, func(a, b string) int {
		if c := number(a) - number(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if len(found) > 0 {
		return found, nil
	}
	test := filepath.Join(dir, "test_batch.bin")
	if fi, err := os.Stat(test); err == nil && !fi.IsDir() {
		return []string{test}, nil
	}
	return nil, nil
}

// cifarSource reads CIFAR-10 binary batches one after the other as a
// single data set.
type cifarSource struct {
	frame
	files   []string
	starts  []int // starts[k] is the index of the first record of files[k]; one more entry ends the last file
	classes []string

	f    *os.File
	r    *bufio.Reader
	open int // index in files of f
	pos  int // index of the record r reads next
	buf  []byte
}

func openCIFAR(files []string, opt *Options) (Source, error) {
	s := &cifarSource{files: files, starts: []int{0}, open: -1}
	s.c, s.h, s.w, s.labelled = 3, 32, 32, true
	for _, path := range files {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		if fi.Size() == 0 || fi.Size()%cifarRecord != 0 {
			return nil, fmt.Errorf("dataset: %s is %d bytes, not a positive multiple of the %d-byte CIFAR-10 record (1 label byte + 3072 pixel bytes); it is truncated or not a CIFAR-10 binary batch (CIFAR-100 records have 2 label bytes and are not supported)",
				path, fi.Size(), cifarRecord)
		}
		s.starts = append(s.starts, s.starts[len(s.starts)-1]+int(fi.Size()/cifarRecord))
	}
	s.classes = readClassNames(filepath.Join(filepath.Dir(files[0]), "batches.meta.txt"))
	s.span = newSpan(s.starts[len(files)], opt)
	return s, nil
}

// readClassNames returns the non-empty lines of path, or nil if it cannot
// be read.
func readClassNames(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	return names
}

// Classes returns the names in batches.meta.txt beside the batches, or nil.
func (s *cifarSource) Classes() []string { return s.classes }

func (s *cifarSource) Next(dst *Batch, max int) error {
	first, n, err := s.begin(dst, max)
	if err != nil {
		return err
	}
	for done := 0; done < n; {
		i := first + done
		k, err := s.seekTo(i)
		if err != nil {
			return err
		}
		run := min(n-done, s.starts[k+1]-i)
		s.buf = grow(s.buf, run*cifarRecord)
		if _, err := io.ReadFull(s.r, s.buf); err != nil {
			return fmt.Errorf("dataset: %s: reading record %d: %w", s.files[k], i-s.starts[k], err)
		}
		s.pos += run
		x := dst.X[done*3072 : (done+run)*3072]
		for j := range run {
			rec := s.buf[j*cifarRecord : (j+1)*cifarRecord]
			dst.Labels[done+j] = int(rec[0])
			for p, b := range rec[1:] {
				x[j*3072+p] = pixel[b]
			}
		}
		done += run
	}
	return nil
}

// seekTo makes r read record i next and returns the index of its file.
func (s *cifarSource) seekTo(i int) (int, error) {
	k, _ := slices.BinarySearch(s.starts, i+1)
	k--
	if k == s.open && i == s.pos {
		return k, nil
	}
	if k != s.open {
		if s.f != nil {
			s.f.Close()
		}
		f, err := os.Open(s.files[k])
		if err != nil {
			s.f, s.open = nil, -1
			return 0, fmt.Errorf("dataset: %w", err)
		}
		s.f, s.open = f, k
	}
	if _, err := s.f.Seek(int64(i-s.starts[k])*cifarRecord, io.SeekStart); err != nil {
		return 0, fmt.Errorf("dataset: %w", err)
	}
	if s.r == nil {
		s.r = bufio.NewReaderSize(s.f, 1<<16)
	} else {
		s.r.Reset(s.f)
	}
	s.pos = i
	return k, nil
}

func (s *cifarSource) Close() error {
	s.closed = true
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f, s.open = nil, -1
	return err
}
