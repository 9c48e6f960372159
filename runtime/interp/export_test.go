package interp

// The test helpers that the package's external tests (package interp_test)
// share with its internal ones. The tests that open ONNX Runtime are
// external because runtime/ort imports this package for its pre-flight
// check.
const ModelDir = modelDir

var (
	LoadProgram       = loadProgram
	ReadNpy           = readNpy
	TransformerModels = transformerModels
	MaxRelErr         = maxRelErr
	GraphModel        = graphModel
)
