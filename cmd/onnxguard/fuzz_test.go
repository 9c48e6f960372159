package main

import (
	"io"
	"math"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/harden"
)

// configApp has the flags of attack, audit and harden, and actions that
// only turn them into configs, checking what the configs promise: every
// value finite and in range. It runs no model.
func configApp(t *testing.T) *cli.App {
	checkAttack := func(cfg fgsm.Config) {
		if !(cfg.Eps > 0 && cfg.Eps <= 1) || !(cfg.Alpha > 0) || math.IsInf(cfg.Alpha, 0) || cfg.Steps < 1 || cfg.Restarts < 1 ||
			math.IsNaN(cfg.Momentum) || math.IsInf(cfg.Momentum, 0) || cfg.Momentum < 0 {
			t.Fatalf("attack config accepted with values out of range: %+v", cfg)
		}
	}
	checkRun := func(c *cli.Context) (*runConfig, error) {
		cfg, err := readRunConfig(c)
		if err != nil {
			return nil, err
		}
		if cfg.batch < 1 || cfg.dataOpt.Limit < 0 || !(cfg.pre.Scale > 0) || math.IsInf(float64(cfg.pre.Scale), 0) {
			t.Fatalf("run config accepted with values out of range: %+v", cfg)
		}
		for _, v := range append(append([]float32(nil), cfg.pre.Mean...), cfg.pre.Std...) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("preprocessing accepted with %v: %+v", v, cfg.pre)
			}
		}
		for _, v := range cfg.pre.Std {
			if !(v > 0) {
				t.Fatalf("std %v accepted", v)
			}
		}
		_, err = parseShard(c.String("shard"), &cfg.dataOpt)
		return cfg, err
	}
	app := &cli.App{Name: "onnxguard", Writer: io.Discard, ErrWriter: io.Discard, ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{
			{Name: "attack", Flags: attackCommand.Flags, Action: func(c *cli.Context) error {
				if _, err := checkRun(c); err != nil {
					return err
				}
				m, err := fgsm.ParseMethod(c.String("method"))
				if err != nil {
					return err
				}
				cfg, err := attackSettings(c, m, c.Float64("eps"))
				if err == nil {
					checkAttack(cfg)
				}
				return err
			}},
			{Name: "audit", Flags: auditCommand.Flags, Action: func(c *cli.Context) error {
				if _, err := checkRun(c); err != nil {
					return err
				}
				if gate, err := parseGate(c.String("fail-under")); err != nil || gate.Set && !(gate.Threshold >= 0 && gate.Threshold <= 1) {
					if err == nil {
						t.Fatalf("--fail-under %q gave %v", c.String("fail-under"), gate.Threshold)
					}
					return err
				}
				cfgs, ens, err := auditAttacks(c)
				for _, cfg := range cfgs {
					checkAttack(cfg)
				}
				for _, e := range ens {
					if !(e.Eps > 0) || math.IsInf(e.Eps, 0) {
						t.Fatalf("--eps %q gave an ensemble budget of %v", c.String("eps"), e.Eps)
					}
				}
				return err
			}},
			{Name: "harden", Flags: hardenCommand.Flags, Action: func(c *cli.Context) error {
				cfg, err := checkRun(c)
				if err != nil {
					return err
				}
				r, err := harden.ParseRecipe(c.String("recipe"))
				if err != nil {
					return err
				}
				hc, err := hardenConfig(c, r, cfg.batch)
				if err != nil {
					return err
				}
				hc, err = hc.Normalize()
				if err == nil {
					for _, v := range []float64{hc.Eps, hc.LR, hc.Momentum, hc.WeightDecay, hc.StepFactor} {
						if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
							t.Fatalf("harden config accepted with %v: %+v", v, hc)
						}
					}
					if hc.Epochs < 1 || !(hc.Eps > 0) || !(hc.LR > 0) {
						t.Fatalf("harden config accepted out of range: %+v", hc)
					}
				}
				return err
			}},
		}}
	return app
}

// FuzzFlags sets three flags of attack, audit or harden to arbitrary
// values, in any order around a positional argument, and turns them into
// configs: no panic, and every accepted config in range.
func FuzzFlags(f *testing.F) {
	f.Add(uint8(0), uint8(0), "nan", uint8(1), "0", uint8(2), "1e309")
	f.Add(uint8(1), uint8(0), "0.1,,0.2", uint8(3), "-1", uint8(5), "inf")
	f.Add(uint8(2), uint8(4), "0", uint8(7), "-0", uint8(9), "0x1p-1074")
	f.Add(uint8(1), uint8(11), "40%", uint8(12), "3/8", uint8(13), "0.229,0.224,0.225")
	cmds := []string{"attack", "audit", "harden"}
	f.Fuzz(func(t *testing.T, cmd, n1 uint8, v1 string, n2 uint8, v2 string, n3 uint8, v3 string) {
		app := configApp(t)
		c := app.Commands[int(cmd)%len(cmds)]
		var names []string
		for _, fl := range c.Flags {
			if df, ok := fl.(cli.DocGenerationFlag); ok && df.TakesValue() {
				names = append(names, fl.Names()[0])
			}
		}
		args := []string{"onnxguard", c.Name, "-m", "m.onnx", "-d", "d.npy"}
		for _, kv := range []struct {
			n uint8
			v string
		}{{n1, v1}, {n2, v2}, {n3, v3}} {
			args = append(args, "--"+names[int(kv.n)%len(names)], kv.v)
			if kv.n&0x80 != 0 {
				args = append(args, "positional")
			}
		}
		app.Run(flagsFirst(app, args))
	})
}
