//go:build tools

// Package tools pins modules that the packages of this repository import
// as they are written, so that go.mod stays stable while work is split.
package tools

import (
	_ "github.com/sbinet/npyio"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/urfave/cli/v2"
	_ "github.com/yalue/onnxruntime_go"
	_ "golang.org/x/image/draw"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/blas/blas32"
	_ "gonum.org/v1/gonum/diff/fd"
	_ "gonum.org/v1/plot"
	_ "google.golang.org/protobuf/proto"
)
