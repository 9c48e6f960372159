package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/runtime"
)

var predictCommand = &cli.Command{
	Name:  "predict",
	Usage: "write the model's raw outputs for every sample as .npy",
	Description: `Runs the data through the model and saves the first output (the logits of a
classifier) as a float32 N×K .npy array. --engine interp runs onnxguard's own
interpreter instead of ONNX Runtime, to compare the two or where the ONNX Runtime
library is absent.

Examples:
   onnxguard predict --model testdata/models/fmnist_cnn.onnx --data testdata/fashion/t10k-images-1000-idx3-ubyte.gz --out logits.npy
   onnxguard predict -m model.onnx -d images.npy --engine interp --out logits_interp.npy`,
	Flags: concat(modelFlags, dataFlags, engineFlags, []cli.Flag{
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output .npy `FILE` (required)"},
	}),
	Before: requireFlags("model", "data", "out"),
	Action: func(c *cli.Context) error {
		if err := checkOutFile("out", c.String("out"), true, input{"model", c.String("model")}, input{"data", c.String("data")}, input{"labels", c.String("labels")}); err != nil {
			return err
		}
		return withModel(c, "predict", func(cfg *runConfig, s *session, rc runtime.Config) error {
			scores, k, err := runtime.Predict(c.Context, s.engine, s.src, rc)
			if err != nil {
				return err
			}
			out := c.String("out")
			n := len(scores) / max(k, 1)
			if err := dataset.WriteNpy(out, scores, []int{n, k}); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "wrote %d×%d outputs to %s (%s)\n", n, k, out, engineName(cfg, s))
			return nil
		})
	},
}
