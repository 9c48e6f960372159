package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// idxTypes names the IDX element types by their code, the third magic byte.
var idxTypes = map[byte]string{
	0x08: "uint8", 0x09: "int8", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
}

// maxIDXRecord bounds the bytes of one IDX sample, so that a header of a
// few bytes (gzip hides the length of the data) cannot make a batch
// allocate gigabytes: MNIST's samples are 784 bytes.
const maxIDXRecord = 1 << 20

// idxFile reads the fixed-size uint8 records of an IDX file in order, from
// a gzip stream or a plain file; a plain file can also seek.
type idxFile struct {
	path   string
	f      *os.File
	gz     *gzip.Reader // nil for a plain file
	r      *bufio.Reader
	dims   []int // dims[0] records of dims[1:] bytes each
	header int64
	record int
}

// openIDXFile opens path and checks that it holds uint8 data with rank
// dimensions; what ("images" or "labels") phrases the errors.
func openIDXFile(path string, rank int, what string) (*idxFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	x := &idxFile{path: path, f: f}
	if err := x.readHeader(rank, what); err != nil {
		x.close()
		return nil, err
	}
	return x, nil
}

func (x *idxFile) readHeader(rank int, what string) error {
	var gzMagic [2]byte
	n, err := io.ReadFull(x.f, gzMagic[:])
	if err != nil && n == 0 {
		return fmt.Errorf("dataset: %s: empty file; want an IDX %s file", x.path, what)
	}
	if _, err := x.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	x.r = bufio.NewReaderSize(x.f, 1<<16)
	if gzMagic == [2]byte{0x1f, 0x8b} {
		if x.gz, err = gzip.NewReader(x.r); err != nil {
			return fmt.Errorf("dataset: %s: starts like gzip but is not: %v", x.path, err)
		}
		x.r = bufio.NewReaderSize(x.gz, 1<<16)
	}
	var magic [4]byte
	if _, err := io.ReadFull(x.r, magic[:]); err != nil {
		return fmt.Errorf("dataset: %s: too short for an IDX header (%v)", x.path, err)
	}
	want := [4]byte{0, 0, 0x08, byte(rank)}
	typ, ok := idxTypes[magic[2]]
	switch {
	case magic[0] != 0 || magic[1] != 0 || !ok:
		return fmt.Errorf("dataset: %s: bad magic bytes % x; an IDX %s file starts with % x (uint8, %d dims)", x.path, magic, what, want, rank)
	case magic[2] != 0x08:
		return fmt.Errorf("dataset: %s: IDX element type %s (magic % x) is not supported; want uint8 (magic % x)", x.path, typ, magic, want)
	case magic[3] == 1 && rank == 3:
		return fmt.Errorf("dataset: %s: magic % x is an IDX labels file; pass the images file (*-images-idx3-ubyte)", x.path, magic)
	case int(magic[3]) != rank:
		return fmt.Errorf("dataset: %s: IDX file has %d dims (magic % x); an IDX %s file has %d (magic % x)", x.path, magic[3], magic, what, rank, want)
	}
	raw := make([]byte, 4*rank)
	if _, err := io.ReadFull(x.r, raw); err != nil {
		return fmt.Errorf("dataset: %s: IDX header ends before its %d dimensions (%v)", x.path, rank, err)
	}
	x.record = 1
	for i := range rank {
		d := int(binary.BigEndian.Uint32(raw[4*i:]))
		if i > 0 && (d == 0 || d > 1<<15) {
			return fmt.Errorf("dataset: %s: IDX dimension %d is %d; want 1 to %d", x.path, i, d, 1<<15)
		}
		x.dims = append(x.dims, d)
		if i > 0 {
			x.record *= d
		}
	}
	if x.record > maxIDXRecord {
		return fmt.Errorf("dataset: %s: IDX records of %s bytes are more than the %d megapixel an IDX sample may have", x.path, dimsText(x.dims[1:]), maxIDXRecord>>20)
	}
	x.header = int64(4 + 4*rank)
	return x.checkSize()
}

// checkSize catches a truncated plain file before any data is read; a gzip
// stream's length is only known at its end, so read reports it there.
func (x *idxFile) checkSize() error {
	if x.gz != nil {
		return nil
	}
	fi, err := x.f.Stat()
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if whole := (fi.Size() - x.header) / int64(x.record); whole < int64(x.dims[0]) {
		return x.truncated(int(whole))
	}
	return nil
}

func (x *idxFile) truncated(sample int) error {
	return fmt.Errorf("dataset: %s: truncated: header says %d samples of %s bytes but the data ends in sample %d; download the file again",
		x.path, x.dims[0], dimsText(x.dims[1:]), sample)
}

// seek positions the reader at record i.
func (x *idxFile) seek(i int) error {
	off := int64(i) * int64(x.record)
	if x.gz == nil {
		if _, err := x.f.Seek(x.header+off, io.SeekStart); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		x.r.Reset(x.f)
		return nil
	}
	if n, err := io.CopyN(io.Discard, x.r, off); err != nil {
		return x.readError(int(n)/x.record, err)
	}
	return nil
}

// read fills buf with whole records, the first of which is record first.
func (x *idxFile) read(buf []byte, first int) error {
	if n, err := io.ReadFull(x.r, buf); err != nil {
		return x.readError(first+n/x.record, err)
	}
	return nil
}

func (x *idxFile) readError(sample int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return x.truncated(sample)
	}
	return fmt.Errorf("dataset: %s: reading sample %d: %w", x.path, sample, err)
}

func (x *idxFile) close() error {
	if x == nil || x.f == nil {
		return nil
	}
	if x.gz != nil {
		x.gz.Close()
	}
	err := x.f.Close()
	x.f = nil
	return err
}

// idxSource reads IDX images (N×H×W uint8, as MNIST ships them) and, when
// present, the matching IDX labels, batch by batch.
type idxSource struct {
	frame
	images, labels *idxFile
	buf            []byte
}

func openIDX(path string, opt *Options) (Source, error) {
	images, err := openIDXFile(path, 3, "images")
	if err != nil {
		return nil, err
	}
	s := &idxSource{images: images}
	s.c, s.h, s.w = 1, images.dims[1], images.dims[2]
	if err := s.openLabels(path, opt.Labels); err != nil {
		s.Close()
		return nil, err
	}
	s.span = newSpan(images.dims[0], opt)
	if err := s.seek(s.span.lo); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openLabels opens the labels file given, or else the sibling of the
// images file if there is one.
func (s *idxSource) openLabels(imagesPath, path string) error {
	if path == "" {
		dir, base := filepath.Split(imagesPath)
		// t10k-images-idx3-ubyte → t10k-labels-idx1-ubyte, and slices such
		// as t10k-images-1000-idx3-ubyte.gz likewise.
		guess := strings.NewReplacer("images", "labels", "idx3", "idx1").Replace(base)
		if guess == base {
			return nil
		}
		if _, err := os.Stat(filepath.Join(dir, guess)); err != nil {
			return nil
		}
		path = filepath.Join(dir, guess)
	}
	labels, err := openIDXFile(path, 1, "labels")
	if err != nil {
		return err
	}
	s.labels, s.labelled = labels, true
	if labels.dims[0] != s.images.dims[0] {
		return fmt.Errorf("dataset: %s has %d labels but %s has %d images; the labels file does not belong to these images",
			path, labels.dims[0], imagesPath, s.images.dims[0])
	}
	return nil
}

func (s *idxSource) seek(i int) error {
	if err := s.images.seek(i); err != nil {
		return err
	}
	if s.labels != nil {
		return s.labels.seek(i)
	}
	return nil
}

func (s *idxSource) Next(dst *Batch, max int) error {
	first, n, err := s.begin(dst, max)
	if err != nil {
		return err
	}
	s.buf = grow(s.buf, n*s.images.record)
	if err := s.images.read(s.buf, first); err != nil {
		return err
	}
	for i, b := range s.buf {
		dst.X[i] = pixel[b]
	}
	if s.labels == nil {
		return nil
	}
	s.buf = s.buf[:n]
	if err := s.labels.read(s.buf, first); err != nil {
		return err
	}
	for i, b := range s.buf {
		dst.Labels[i] = int(b)
	}
	return nil
}

func (s *idxSource) Close() error {
	s.closed = true
	return errors.Join(s.images.close(), s.labels.close())
}
