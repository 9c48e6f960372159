package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm/report"
	"github.com/onnxguard/onnxguard/runtime"
)

var evalCommand = &cli.Command{
	Name:  "eval",
	Usage: "measure top-1 accuracy on labelled data",
	Description: `Runs every sample through the model (ONNX Runtime by default) and reports top-1
accuracy, overall and per class. Classes are named by --class-names FILE (one
per line, or a JSON list), else by the model's metadata_props (onnxguard.classes,
or an exporter's names, classes, class_names or labels), else by the data's
folder names. Progress goes to stderr when it is a terminal.

Examples:
   onnxguard eval --model testdata/models/fmnist_cnn.onnx --data testdata/fashion/t10k-images-1000-idx3-ubyte.gz
   onnxguard eval -m testdata/models/fmnist_cnn.onnx -d testdata/fashion/t10k-images-1000-idx3-ubyte.gz --class-names testdata/fashion/classes.txt
   onnxguard eval -m testdata/models/fmnist_nhwc.onnx -d testdata/fashion/t10k-images-1000-idx3-ubyte.gz --layout nhwc
   onnxguard eval -m model_b1_raw.onnx -d /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --input-scale 255
   onnxguard eval -m resnet.onnx -d imagenet/val --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --json`,
	Flags:  concat(modelFlags, dataFlags, engineFlags, []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print one JSON object to stdout"}, classNamesFlag}),
	Before: requireFlags("model", "data"),
	Action: func(c *cli.Context) error {
		return withModel(c, "eval", func(cfg *runConfig, s *session, rc runtime.Config) error {
			res, err := runtime.Evaluate(c.Context, s.engine, s.src, rc)
			if errors.Is(err, dataset.ErrNoLabels) {
				return withHint(err, "; pass --labels, or use predict")
			}
			if err != nil {
				return err
			}
			names, err := classNames(c, s.model, s.src, len(res.PerClass))
			if err != nil {
				return err
			}
			if cfg.json {
				out := struct {
					Model  string `json:"model"`
					Data   string `json:"data"`
					Engine string `json:"engine"`
					*runtime.EvalResult
					Classes []string `json:"classes,omitempty"`
				}{cfg.modelPath, cfg.data, engineName(cfg, s), res, names}
				return json.NewEncoder(c.App.Writer).Encode(out)
			}
			fmt.Fprintf(c.App.Writer, "accuracy %.2f%% (%d of %d samples correct) on %s\n", 100*res.Accuracy, res.Correct, res.Samples, engineName(cfg, s))
			for _, pc := range res.PerClass {
				if pc.Samples > 0 {
					fmt.Fprintf(c.App.Writer, "  class %-16s %6.2f%%  (%d/%d)\n", report.ClassName(names, pc.Class), 100*pc.Accuracy, pc.Correct, pc.Samples)
				}
			}
			return nil
		})
	},
}

// engineName says what ran the model, ONNX Runtime's device included.
func engineName(cfg *runConfig, s *session) string {
	if d, ok := s.engine.(interface{ Device() string }); ok {
		return "onnxruntime/" + d.Device()
	}
	return cfg.engine
}

func concat(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
