package interp

// Node tests of the elementwise, activation, reduction, Cast and Dropout
// operators that do not run, one reason each.
func init() {
	for name, reason := range map[string]string{
		"test_cast_BFLOAT16_to_FLOAT":              "ONNX 1.12's test data stores bfloat16 tensors as UINT16 bit patterns, which read back as integers",
		"test_cast_FLOAT_to_BFLOAT16":              "ONNX 1.12's test data stores bfloat16 tensors as UINT16 bit patterns, which read back as integers",
		"test_castlike_BFLOAT16_to_FLOAT_expanded": "ONNX 1.12's test data stores bfloat16 tensors as UINT16 bit patterns, which read back as integers",
		"test_castlike_FLOAT_to_BFLOAT16_expanded": "ONNX 1.12's test data stores bfloat16 tensors as UINT16 bit patterns, which read back as integers",
		"test_cast_FLOAT_to_STRING":                "string tensors are not supported",
		"test_cast_STRING_to_FLOAT":                "string tensors are not supported",
		"test_castlike_FLOAT_to_STRING_expanded":   "string tensors are not supported",
		"test_castlike_STRING_to_FLOAT_expanded":   "string tensors are not supported",
		"test_identity_opt":                        "optional-typed values are not tensors; the interpreter runs tensors only",
		"test_identity_sequence":                   "sequence-typed values are not tensors; the interpreter runs tensors only",
		"test_training_dropout":                    "the expected mask comes from NumPy's random generator, which the seeded Go source does not reproduce",
		"test_training_dropout_default":            "the expected mask comes from NumPy's random generator, which the seeded Go source does not reproduce",
		"test_training_dropout_default_mask":       "the expected mask comes from NumPy's random generator, which the seeded Go source does not reproduce",
		"test_training_dropout_mask":               "the expected mask comes from NumPy's random generator, which the seeded Go source does not reproduce",
	} {
		conformanceSkips[name] = reason
	}
}
