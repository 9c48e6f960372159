package harden

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/onnx"
)

// The files Train writes into Config.CheckpointDir after every epoch.
const (
	CheckpointFile = "checkpoint.gob"
	HistoryFile    = "history.json"
)

// checkpointVersion changes when Checkpoint changes incompatibly. 2: every
// adversarial recipe ranks its epochs by the PGD probe, so Config carries
// the probe's settings and History its accuracy; a version 1 checkpoint
// of the paper or pgd recipe has neither.
// 3: the adversarial recipes rank their epochs by the apgd probe by default
// (Config.Probe) and History records its accuracy (ValAPGD).
// 4: the arrays follow the rest as bytes (checkpointfile.go); version 3
// files are still read.
const checkpointVersion = 4

// Checkpoint is everything a run needs to continue bit-exactly after an
// epoch: it is written to CheckpointFile as a gob stream (see ckHead).
type Checkpoint struct {
	Version int
	Config  Config // normalized, without CheckpointDir and StopAfter
	Pre     dataset.Preprocess
	// StartSHA256 is a digest of the program's floating-point
	// initializers before training (names, shapes, values), so a resume
	// on another model fails even when Config.ModelSHA256 was not given.
	StartSHA256 string
	DataSHA256  string   // the training and validation samples and labels
	Params      []string // parameter names in Program.Params order
	Epoch       int      // epochs completed
	// Weights holds every floating-point initializer after Epoch epochs,
	// BatchNorm running statistics included.
	Weights map[string][]float32
	// The optimizer's state, aligned with Params; one of the two is set.
	SGD  *SGDM
	Adam *AdamW
	// Best holds the weights of BestEpoch (0: the starting model).
	Best      map[string][]float32
	BestEpoch int
	History   []Epoch
	Stopped   string // why the run ended early, "" while it may go on
}

// LoadCheckpoint reads a checkpoint from a file, or from CheckpointFile in
// a folder. Its Best weights are ready for export.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, CheckpointFile)
	}
	ck, err := readCheckpoint(path)
	if errors.Is(err, errDamaged) {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if ck.Version != checkpointVersion && ck.Version != 3 {
		return nil, fmt.Errorf("checkpoint %s has format version %d; this onnxguard reads versions 3 and %d: start the run again without resuming", path, ck.Version, checkpointVersion)
	}
	if ck.Best == nil || ck.Weights == nil || (ck.SGD == nil) == (ck.Adam == nil) {
		return nil, fmt.Errorf("checkpoint %s is incomplete: weights or optimizer state missing", path)
	}
	return ck, nil
}

// History is what HistoryFile holds: the run's settings and one entry per
// epoch, the starting model first.
type History struct {
	Config    Config  `json:"config"`
	BestEpoch int     `json:"best_epoch"`
	Stopped   string  `json:"stopped,omitempty"`
	Epochs    []Epoch `json:"epochs"`
}

// save writes the checkpoint and the history into dir, each atomically, so
// an interruption leaves the previous epoch's files whole.
func (ck *Checkpoint) save(dir string) error {
	if err := writeCheckpoint(filepath.Join(dir, CheckpointFile), ck); err != nil {
		return err
	}
	h, err := json.MarshalIndent(History{Config: ck.Config, BestEpoch: ck.BestEpoch, Stopped: ck.Stopped, Epochs: ck.History}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the history: %w", err)
	}
	return onnx.WriteFileAtomic(filepath.Join(dir, HistoryFile), append(h, '\n'))
}

// hasCheckpoint reports whether dir holds a checkpoint.
func hasCheckpoint(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
