// Command idx2npy writes an IDX image file and its labels as the .npy pair
// that onnxguard's --data/--labels read: float32 N×C×H×W pixels in [0,1]
// and int64 labels. scripts/image-test.sh uses it to run the README's
// Kubernetes recipe, which reads .npy files, on the built-in data.
//
//	go run ./scripts/idx2npy IMAGES.idx3-ubyte.gz OUT-images.npy OUT-labels.npy
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/atomicfile"
	"github.com/sbinet/npyio"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: idx2npy IMAGES OUT-images.npy OUT-labels.npy")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "idx2npy:", err)
		os.Exit(1)
	}
}

func run(images, outX, outY string) error {
	src, err := dataset.Open(images, nil)
	if err != nil {
		return err
	}
	defer src.Close()
	if !src.Labelled() {
		return fmt.Errorf("%s has no labels file beside it", images)
	}
	c, h, w := src.Dims()
	var x []float32
	var y []int64
	var b dataset.Batch
	for {
		err := src.Next(&b, 256)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		x = append(x, b.X[:b.N*c*h*w]...)
		for _, l := range b.Labels[:b.N] {
			y = append(y, int64(l))
		}
	}
	if err := dataset.WriteNpy(outX, x, []int{len(y), c, h, w}); err != nil {
		return err
	}
	return writeLabels(outY, y)
}

// writeLabels writes y as an int64 .npy vector, whole or not at all, as
// the image file is.
func writeLabels(path string, y []int64) error {
	var buf bytes.Buffer
	if err := npyio.Write(&buf, y); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}
