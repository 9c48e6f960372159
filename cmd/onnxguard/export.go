package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/onnx"
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
		if err := checkOutFile("out", c.String("out"), false, input{"model", c.String("model")}, input{"checkpoint", c.String("checkpoint")}); err != nil {
			return err
		}
		if _, err := intFlag(c, "threads", 0); err != nil {
			return err
		}
		if err := checkDevice(c); err != nil {
			return err
		}
		ck, err := harden.LoadCheckpoint(c.String("checkpoint"))
		if err != nil {
			return err
		}
		path := c.String("model")
		model, err := onnx.Load(path)
		if err != nil {
			return err
		}
		sum, err := model.SHA256()
		if err != nil {
			return err
		}
		if ck.Config.ModelSHA256 != "" && ck.Config.ModelSHA256 != sum {
			return fmt.Errorf("the checkpoint was trained from a model with sha256 %.12s…, not %s (%.12s…); pass the model the run started from", ck.Config.ModelSHA256, path, sum)
		}
		budget, err := maxMemory(c)
		if err != nil {
			return err
		}
		prog, err := interp.Compile(model, interpOptions(interp.Options{MaxMemory: budget}))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, p := range prog.Params() {
			if w, ok := ck.Best[p.Name]; ok {
				copy(p.T.Data, w)
			}
		}
		cfg := &runConfig{modelPath: path, pre: ck.Pre, ort: ortOptions(c)}
		cfg.ort.MaxMemory = budget
		out := c.String("out")
		hc := ck.Config
		meta := provenance(hc, ck.Epoch, ck.BestEpoch, sum)
		if err := export.Write(out, model, ck.Best, &export.Options{Metadata: meta}); err != nil {
			return err
		}
		s := prog.Input.Shape
		per := 1
		for _, d := range s[1:] {
			per *= int(d)
		}
		n := 16
		if s[0] > 0 {
			n = int(s[0])
		}
		rng := rand.New(rand.NewPCG(hc.Seed, 0))
		x := make([]float32, n*per)
		for i := range x {
			x[i] = rng.Float32()
		}
		maxRel, err := verifyExport(out, prog, x, n, cfg)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return json.NewEncoder(c.App.Writer).Encode(map[string]any{"out": out, "model": path, "best_epoch": ck.BestEpoch,
				"epochs": ck.Epoch, "recipe": hc.Recipe, "eps": hc.Eps, "export_max_relative_error": maxRel})
		}
		fmt.Fprintf(c.App.Writer, "wrote %s: best epoch %d of %d (recipe %s, ε=%g); ONNX Runtime agrees with the interpreter within %.2g\n",
			out, ck.BestEpoch, ck.Epoch, hc.Recipe, hc.Eps, maxRel)
		return nil
	},
}
