package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/harden/arch"
)

var initCommand = &cli.Command{
	Name:  "init",
	Usage: "write a freshly initialised CNN of the seed paper as an ONNX model",
	Description: `Builds one of the seed paper's architectures with He-normal weights and zero
biases, for the given sample shape and number of classes, and writes it as an ONNX
file (opset 13, dynamic batch, input "input", output "logits") that ONNX Runtime
and onnxguard's interpreter both run. The same seed gives the same file.

   paper-simple   ` + arch.Summary("paper-simple") + `
   paper-complex  ` + arch.Summary("paper-complex") + `

Examples:
   onnxguard init --arch paper-simple --out mnist_cnn.onnx
   onnxguard init --arch paper-complex --input 3x32x32 --out cifar_cnn.onnx --seed 7
   onnxguard init --arch paper-complex --input 3x64x64 --classes 200 --out tiny_imagenet.onnx --json`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "arch", Aliases: []string{"a"}, Usage: "architecture: " + strings.Join(arch.Names(), " or ") + " (required)"},
		&cli.StringFlag{Name: "input", Value: arch.FormatInput(arch.DefaultInput), Usage: "sample shape, channels x height x width"},
		&cli.IntFlag{Name: "classes", Value: arch.DefaultClasses, Usage: "number of classes (outputs)"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "ONNX `FILE` to write (required)"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the weight initialisation"},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object to stdout"},
	},
	Before: requireFlags("arch", "out"),
	Action: func(c *cli.Context) error {
		cfg, err := readInitConfig(c)
		if err != nil {
			return err
		}
		return runInit(c, cfg)
	},
}

// initConfig is what init's flags become.
type initConfig struct {
	arch string
	opt  arch.Options
	out  string
	json bool
}

func readInitConfig(c *cli.Context) (*initConfig, error) {
	input, err := arch.ParseInput(c.String("input"))
	if err != nil {
		return nil, fmt.Errorf("--input: %w", err)
	}
	// arch.Options reads 0 classes as the default; on the command line the
	// default is the flag's, and 0 is a mistake.
	if c.Int("classes") < 2 {
		return nil, fmt.Errorf("--classes %d: a classifier needs at least 2 classes", c.Int("classes"))
	}
	if err := checkOutFile("out", c.String("out"), false); err != nil {
		return nil, err
	}
	return &initConfig{
		arch: c.String("arch"),
		opt:  arch.Options{Input: input, Classes: c.Int("classes"), Seed: c.Uint64("seed")},
		out:  c.String("out"),
		json: c.Bool("json"),
	}, nil
}

// runInit builds the model, writes it atomically and prints the summary.
func runInit(c *cli.Context, cfg *initConfig) error {
	m, err := arch.Build(cfg.arch, &cfg.opt)
	if err != nil {
		return err
	}
	g, err := m.Graph()
	if err != nil {
		return err
	}
	if err := m.Save(cfg.out); err != nil {
		return err
	}
	params := g.ParamCount()
	if cfg.json {
		digest, err := m.SHA256()
		if err != nil {
			return err
		}
		return json.NewEncoder(c.App.Writer).Encode(struct {
			Arch       string `json:"arch"`
			Parameters int64  `json:"parameters"`
			Input      [3]int `json:"input"`
			Classes    int    `json:"classes"`
			Seed       uint64 `json:"seed"`
			Path       string `json:"path"`
			SHA256     string `json:"sha256"`
		}{cfg.arch, params, cfg.opt.Input, cfg.opt.Classes, cfg.opt.Seed, cfg.out, digest})
	}
	fmt.Fprintf(c.App.Writer, "%s: %d parameters, input %s, %d classes, seed %d, written to %s\n",
		cfg.arch, params, arch.FormatInput(cfg.opt.Input), cfg.opt.Classes, cfg.opt.Seed, cfg.out)
	return nil
}
