package harden

import (
	"strconv"

	"github.com/onnxguard/onnxguard/export"
)

// Provenance is the metadata_props a hardened model carries: what was
// trained, how, from which file (sourceSHA256) and by which onnxguard
// version; epochs are those completed, best the epoch exported.
func Provenance(cfg Config, epochs, best int, sourceSHA256, version string) map[string]string {
	return map[string]string{
		"onnxguard.recipe":     string(cfg.Recipe),
		"onnxguard.eps":        strconv.FormatFloat(cfg.Eps, 'g', -1, 64),
		"onnxguard.epochs":     strconv.Itoa(epochs),
		"onnxguard.best_epoch": strconv.Itoa(best),
		"onnxguard.bn":         cfg.BN,
		"onnxguard.seed":       strconv.FormatUint(cfg.Seed, 10),
		export.SourceKey:       sourceSHA256,
		"onnxguard.version":    version,
	}
}

// Export is what export.FromCheckpoint needs to write the checkpoint's
// best epoch into its model, with the provenance of the run; version is
// the onnxguard version recorded.
func (ck *Checkpoint) Export(version string) *export.Checkpoint {
	return &export.Checkpoint{
		Weights:      ck.Best,
		Metadata:     Provenance(ck.Config, ck.Epoch, ck.BestEpoch, ck.Config.ModelSHA256, version),
		Pre:          ck.Pre,
		Seed:         ck.Config.Seed,
		SourceSHA256: ck.Config.ModelSHA256,
	}
}
