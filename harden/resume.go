package harden

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// save writes the run's state after t.epoch epochs, when a checkpoint
// folder is set.
func (t *trainer) save() error {
	if t.cfg.CheckpointDir == "" {
		return nil
	}
	names := make([]string, len(t.params))
	for i, p := range t.params {
		names[i] = p.Name
	}
	ck := &Checkpoint{Version: checkpointVersion, Config: t.cfg.comparable(), Pre: t.pre,
		StartSHA256: t.startSum, DataSHA256: t.dataSum, Params: names, Epoch: t.epoch,
		Weights: t.current(),
		Best:    t.best, BestEpoch: t.bestEpoch, History: t.history, Stopped: t.stopped}
	switch o := t.opt.(type) {
	case *SGDM:
		ck.SGD = o
	case *AdamW:
		ck.Adam = o
	}
	if err := ck.save(t.cfg.CheckpointDir); err != nil {
		return fmt.Errorf("checkpoint after epoch %d: %w", t.epoch, err)
	}
	return nil
}

// restore puts the trainer in the state ck recorded, after checking that
// ck comes from the same model, data, preprocessing and settings.
func (t *trainer) restore(ck *Checkpoint) error {
	if want := t.cfg.comparable(); ck.Config != want {
		return fmt.Errorf("the settings differ from the checkpoint's (%s); resume with the settings it was started with", configDiff(ck.Config, want))
	}
	if ck.StartSHA256 != t.startSum {
		return errors.New("the model's weights are not those the checkpoint started from; compile the original model file again (not the hardened one) and resume with it")
	}
	if ck.DataSHA256 != t.dataSum {
		return errors.New("the training or validation data differ from the checkpoint's; resume on the same data, limit and split")
	}
	if ck.Pre.Scale != t.pre.Scale || !slices.Equal(ck.Pre.Mean, t.pre.Mean) || !slices.Equal(ck.Pre.Std, t.pre.Std) || ck.Pre.Layout != t.pre.Layout {
		return fmt.Errorf("the preprocessing differs from the checkpoint's (scale %g, mean %v, std %v, layout %v)", ck.Pre.Scale, ck.Pre.Mean, ck.Pre.Std, ck.Pre.Layout)
	}
	if len(ck.Params) != len(t.params) {
		return fmt.Errorf("the checkpoint has %d parameters, the model %d", len(ck.Params), len(t.params))
	}
	for i, p := range t.params {
		if ck.Params[i] != p.Name {
			return fmt.Errorf("parameter %d is %q in the checkpoint, %q in the model", i, ck.Params[i], p.Name)
		}
	}
	if err := t.load(ck.Weights); err != nil {
		return err
	}
	if ck.BestEpoch >= len(ck.History) || ck.Epoch+1 != len(ck.History) {
		return fmt.Errorf("the checkpoint is inconsistent: %d epochs done, %d history entries, best epoch %d", ck.Epoch, len(ck.History), ck.BestEpoch)
	}
	if err := t.checkState(ck); err != nil {
		return err
	}
	switch _, sgd := t.opt.(*SGDM); {
	case sgd && ck.SGD != nil:
		t.opt = ck.SGD
	case !sgd && ck.Adam != nil:
		t.opt = ck.Adam
	default:
		return errors.New("the checkpoint's optimizer state is not for the configured optimizer")
	}
	t.epoch, t.best, t.bestEpoch, t.history, t.stopped = ck.Epoch, ck.Best, ck.BestEpoch, ck.History, ck.Stopped
	return nil
}

// checkState checks that ck's best weights and optimizer state fit the
// model's parameters, so that a damaged or edited checkpoint is refused
// here rather than failing inside an optimizer step: each array is empty
// (a parameter not yet stepped) or as long as its parameter.
func (t *trainer) checkState(ck *Checkpoint) error {
	fits := func(what string, arrays [][]float32) error {
		if len(arrays) > len(t.data) {
			return fmt.Errorf("the checkpoint's %s has %d arrays for %d parameters", what, len(arrays), len(t.data))
		}
		for i, a := range arrays {
			if len(a) != 0 && len(a) != len(t.data[i]) {
				return fmt.Errorf("the checkpoint's %s of %s has %d values, the parameter %d", what, t.params[i].Name, len(a), len(t.data[i]))
			}
		}
		return nil
	}
	for i, p := range t.params {
		if b, ok := ck.Best[p.Name]; !ok || len(b) != len(t.data[i]) {
			return fmt.Errorf("the checkpoint's best weights of %s have %d values, the parameter %d", p.Name, len(b), len(t.data[i]))
		}
	}
	if o := ck.SGD; o != nil {
		return fits("momentum", o.Velocity)
	}
	if o := ck.Adam; o != nil {
		if len(o.M) != len(o.V) || len(o.M) != len(o.T) {
			return fmt.Errorf("the checkpoint's Adam state has %d first moments, %d second and %d step counts; they must match", len(o.M), len(o.V), len(o.T))
		}
		for i := range o.M {
			if len(o.M[i]) != len(o.V[i]) || o.T[i] < 0 {
				return fmt.Errorf("the checkpoint's Adam state of parameter %d is inconsistent: %d and %d moments, %d steps", i, len(o.M[i]), len(o.V[i]), o.T[i])
			}
		}
		if err := fits("Adam first moment", o.M); err != nil {
			return err
		}
		return fits("Adam second moment", o.V)
	}
	return nil
}

// configDiff names the settings in which a and b differ.
func configDiff(a, b Config) string {
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	var diffs []string
	for k, va := range ma {
		if vb, ok := mb[k]; !ok || fmt.Sprint(va) != fmt.Sprint(vb) {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint %v, now %v", k, va, mb[k]))
		}
	}
	for k, vb := range mb {
		if _, ok := ma[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint unset, now %v", k, vb))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}
