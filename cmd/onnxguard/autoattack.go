package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/onnx"
)

// stateFile is where an audit with --report keeps its finished batches,
// one JSON line each after a header, so that --resume can skip them.
const stateFile = "audit.state"

// aaFlags are audit's AutoAttack settings.
var aaFlags = []cli.Flag{
	&cli.StringFlag{Name: "norm", Value: "linf", Usage: "budget norm of autoattack and its stages: linf or l2 (fgsm, bim, pgd and mifgsm are linf only)"},
	&cli.IntFlag{Name: "aa-iters", Usage: "iterations of every autoattack stage, queries for square", DefaultText: "the reference's, 100 and 5000"},
	&cli.BoolFlag{Name: "resume", Usage: "with --report DIR, skip the batches that DIR/" + stateFile + " records as finished by an interrupted audit"},
}

// ensembles is every ensemble or stage of --attacks at every ε; names
// that are fixed-step attacks are left to auditAttacks.
func ensembles(c *cli.Context, names []string, epss []float64) ([]fgsm.Ensemble, []string, error) {
	norm, err := fgsm.ParseNorm(c.String("norm"))
	if err != nil {
		return nil, nil, fmt.Errorf("--norm: %w", err)
	}
	var out []fgsm.Ensemble
	var rest []string
	for _, n := range names {
		if !fgsm.IsEnsemble(n) {
			rest = append(rest, n)
			continue
		}
		for _, e := range epss {
			en, err := fgsm.NewEnsemble(n, norm, e, c.Int("aa-iters"))
			if err != nil {
				return nil, nil, fmt.Errorf("--attacks: %w", err)
			}
			out = append(out, en)
		}
	}
	if len(rest) > 0 && norm != fgsm.Linf {
		return nil, nil, fmt.Errorf("--norm %s: %s are L∞ attacks; audit them apart, or drop them for an L2 audit", norm, strings.Join(rest, ", "))
	}
	return out, rest, nil
}

// stateKey identifies an audit for its state file: what shapes its
// figures.
func stateKey(a *attackSession, opt *fgsm.AuditOptions) (string, error) {
	sum, err := a.modelSHA256()
	if err != nil {
		return "", err
	}
	key, err := json.Marshal(struct {
		Model, Data string
		Seed        uint64
		Batch       int
		DataOptions dataset.Options
		Pre         dataset.Preprocess
		Attacks     []fgsm.Config
		Ensembles   []fgsm.Ensemble
	}{sum, a.cfg.data, opt.Seed, a.cfg.batch, a.cfg.dataOpt, a.cfg.pre, opt.Attacks, opt.Ensembles})
	return string(key), err
}

// auditState opens DIR/audit.state: with resume, it reads the batches an
// interrupted audit of the same key finished into opt.Done; then it
// starts the file afresh (keeping those batches) and sets opt.Checkpoint
// to append each finished batch. The returned function removes the file
// once the report is written.
func auditState(c *cli.Context, dir string, resume bool, a *attackSession, opt *fgsm.AuditOptions) (func(), error) {
	if dir == "" {
		if resume {
			return nil, errors.New("--resume needs --report DIR, where the interrupted audit kept its state")
		}
		return func() {}, nil
	}
	key, err := stateKey(a, opt)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, stateFile)
	if resume {
		if opt.Done, err = readState(path, key); err != nil {
			return nil, err
		}
		fmt.Fprintf(c.App.ErrWriter, "resuming: %d batches already done in %s\n", len(opt.Done), path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the report directory %s: %w", dir, err)
	}
	var buf bytes.Buffer
	buf.WriteString(key + "\n")
	for _, d := range opt.Done {
		line, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		buf.Write(append(line, '\n'))
	}
	// Rewritten whole, atomically, so that a second interruption here
	// loses none of the batches already done.
	if err := onnx.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("writing the audit's state: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("writing the audit's state: %w", err)
	}
	opt.Checkpoint = func(r *fgsm.Report) error {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := f.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("saving a finished batch to %s: %w", path, err)
		}
		return f.Sync()
	}
	return func() { f.Close(); os.Remove(path) }, nil
}

// readState reads the finished batches of a state file written for key;
// a missing file means nothing is done, and a last line cut short by the
// interruption is dropped.
func readState(path, key string) ([]*fgsm.Report, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rd := bufio.NewReader(bytes.NewReader(data))
	head, err := rd.ReadString('\n')
	if err != nil || strings.TrimSuffix(head, "\n") != key {
		return nil, fmt.Errorf("%s belongs to another audit (model, data, attacks, seed, batch or shard differ): drop --resume to start afresh", path)
	}
	var done []*fgsm.Report
	for {
		line, err := rd.ReadString('\n')
		if err == io.EOF {
			return done, nil // an unterminated line is a batch cut short
		}
		var r fgsm.Report
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s: a finished batch does not read (%v): drop --resume to start afresh", path, err)
		}
		done = append(done, &r)
	}
}

// printEnsembles writes each ensemble's robust accuracy after every stage,
// its time, and FAB's minimum norms.
func printEnsembles(w io.Writer, r *fgsm.Report) {
	for _, e := range r.Ensembles {
		fmt.Fprintf(w, "\n%-44s %9s %9s %9s\n", e.Label(), "robust", "broke", "seconds")
		fmt.Fprintf(w, "  %-42s %8.2f%% %9d %9s\n", "clean", 100*r.CleanAccuracy, r.Samples-r.CleanCorrect, "-")
		for _, s := range e.PerStage {
			fmt.Fprintf(w, "  after %-36s %8.2f%% %9d %9.1f\n", s.Name, 100*s.Accuracy, s.Broken, s.Seconds)
		}
		fmt.Fprintf(w, "  %-42s %8.2f%%\n", "worst case", 100*e.Accuracy)
		for _, m := range []struct {
			name string
			s    *fgsm.NormSummary
		}{{"L∞", e.MinLinf}, {"L2", e.MinL2}} {
			if m.s != nil {
				fmt.Fprintf(w, "  smallest %s perturbation found on %d of %d samples: median %.4g (10%%–90%%: %.4g–%.4g)\n",
					m.name, m.s.Found, e.MinNormSamples, m.s.Median, m.s.Quantiles[0], m.s.Quantiles[4])
			}
		}
	}
}
