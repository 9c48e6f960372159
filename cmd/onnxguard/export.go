package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

var exportCommand = &cli.Command{
	Name:  "export",
	Usage: "write a training checkpoint's best weights into the ONNX model",
	Description: `Turns a checkpoint of 'onnxguard harden' (checkpoint.gob, or the folder holding it)
into an ONNX file: the model's graph untouched, its weights replaced by the
checkpoint's best epoch, metadata_props recording the recipe. The file is checked
on ONNX Runtime against the interpreter (relative difference at most 1e-4) on
seeded random pixels before success is reported.

Examples:
   onnxguard export --checkpoint hardened.onnx.checkpoints --model model.onnx --out hardened.onnx
   onnxguard export --checkpoint run/checkpoint.gob --model model.onnx --out epoch_best.onnx --json`,
	Flags: concat(modelFlags, engineFlags[1:], []cli.Flag{
		&cli.StringFlag{Name: "checkpoint", Aliases: []string{"c"}, Usage: "checkpoint `FILE` or folder (required)"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "ONNX `FILE` to write (required)"},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object to stdout"},
	}),
	Before: requireFlags("model", "checkpoint", "out"),
	Action: func(c *cli.Context) error {
		cfg, err := readExportConfig(c)
		if err != nil {
			return err
		}
		return runExport(c, cfg)
	},
}

// exportConfig is what export's flags become.
type exportConfig struct {
	checkpoint, model, out string
	opt                    export.CheckpointOptions
	json                   bool
}

func readExportConfig(c *cli.Context) (*exportConfig, error) {
	cfg := &exportConfig{checkpoint: c.String("checkpoint"), model: c.String("model"), out: c.String("out"), json: c.Bool("json")}
	if err := checkOutFile("out", cfg.out, false, input{"model", cfg.model}, input{"checkpoint", cfg.checkpoint}); err != nil {
		return nil, err
	}
	if _, err := intFlag(c, "threads", 0); err != nil {
		return nil, err
	}
	if err := checkDevice(c); err != nil {
		return nil, err
	}
	budget, err := maxMemory(c)
	if err != nil {
		return nil, err
	}
	cfg.opt = export.CheckpointOptions{Compile: *interpOptions(interp.Options{MaxMemory: budget}), ORT: ortOptions(c)}
	return cfg, nil
}

// runExport writes the checkpoint's best epoch and prints what it wrote.
func runExport(c *cli.Context, cfg *exportConfig) error {
	ck, err := harden.LoadCheckpoint(cfg.checkpoint)
	if err != nil {
		return err
	}
	maxRel, err := export.FromCheckpoint(ck.Export(version), cfg.model, cfg.out, &cfg.opt)
	if err != nil {
		return err
	}
	hc := ck.Config
	if cfg.json {
		return json.NewEncoder(c.App.Writer).Encode(map[string]any{"out": cfg.out, "model": cfg.model, "best_epoch": ck.BestEpoch,
			"epochs": ck.Epoch, "recipe": hc.Recipe, "eps": hc.Eps, "export_max_relative_error": maxRel})
	}
	fmt.Fprintf(c.App.Writer, "wrote %s: best epoch %d of %d (recipe %s, ε=%g); ONNX Runtime agrees with the interpreter within %.2g\n",
		cfg.out, ck.BestEpoch, ck.Epoch, hc.Recipe, hc.Eps, maxRel)
	return nil
}
