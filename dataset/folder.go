package dataset

import (
	"bufio"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// folderSource reads a folder with one subfolder of PNG and JPEG images per
// class, decoding the images of each batch as it is asked for.
type folderSource struct {
	frame
	classes []string
	files   []string
	labels  []int
}

// imageExts are the file name extensions read from class folders; other
// files are skipped.
var imageExts = []string{".png", ".jpg", ".jpeg"}

func openFolder(dir string, opt *Options) (Source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	s := &folderSource{}
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") || !isDir(sub) {
			continue
		}
		label := len(s.classes)
		s.classes = append(s.classes, e.Name())
		files, err := os.ReadDir(sub)
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		for _, f := range files {
			ext := strings.ToLower(filepath.Ext(f.Name()))
			if f.IsDir() || strings.HasPrefix(f.Name(), ".") || !slices.Contains(imageExts, ext) {
				continue
			}
			s.files = append(s.files, filepath.Join(sub, f.Name()))
			s.labels = append(s.labels, label)
		}
	}
	if len(s.classes) == 0 {
		return nil, fmt.Errorf("dataset: %s has no class subfolders; want one folder of images per class, or CIFAR-10 data_batch_*.bin or test_batch.bin", dir)
	}
	if len(s.files) == 0 {
		return nil, fmt.Errorf("dataset: %s: no .png, .jpg or .jpeg files in its %d class folders", dir, len(s.classes))
	}
	s.c, s.h, s.w, s.labelled = 3, opt.Height, opt.Width, true
	if opt.Channels != 0 {
		s.c = opt.Channels
	}
	switch {
	case s.h == 0 && s.w == 0:
		if s.h, s.w, err = imageSize(s.files[0]); err != nil {
			return nil, err
		}
	case s.h == 0:
		s.h = s.w
	case s.w == 0:
		s.w = s.h
	}
	s.span = newSpan(len(s.files), opt)
	return s, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path) // follows links, unlike a DirEntry
	return err == nil && fi.IsDir()
}

// imageSize returns the height and width of the image at path from its
// header alone.
func imageSize(path string) (h, w int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return 0, 0, fmt.Errorf("dataset: %s: cannot decode as PNG or JPEG: %v", path, err)
	}
	if err := checkImageConfig(path, cfg); err != nil {
		return 0, 0, err
	}
	return cfg.Height, cfg.Width, nil
}

// Classes returns the class folder names; label i is Classes()[i].
func (s *folderSource) Classes() []string { return s.classes }

// Next decodes the batch's images in parallel.
func (s *folderSource) Next(dst *Batch, max int) error {
	first, n, err := s.begin(dst, max)
	if err != nil {
		return err
	}
	copy(dst.Labels, s.labels[first:first+n])
	chw := s.c * s.h * s.w
	errs := make([]error, n)
	workers := min(n, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			for i := k; i < n; i += workers {
				errs[i] = loadImage(dst.X[i*chw:(i+1)*chw], s.files[first+i], s.c, s.h, s.w)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *folderSource) Close() error {
	s.closed = true
	return nil
}
