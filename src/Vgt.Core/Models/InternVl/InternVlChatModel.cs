using TorchSharp;
using Vgt.Checkpoints;
using Vgt.Imaging;
using Vgt.Tokenization;
using static TorchSharp.torch;

namespace Vgt.Models.InternVl;

/// <summary>One chat turn to answer: a question and the images it is about (each [3,H,W] in [−1,1], any size).</summary>
public sealed record ChatRequest(string Question, IReadOnlyList<Tensor>? Images = null)
{
    public int ImageCount => Images?.Count ?? 0;
}

/// <summary>The answer to a <see cref="ChatRequest"/>: decoded text (special tokens dropped), ids, stop reason, prompt length.</summary>
public sealed record ChatResponse(string Text, int[] TokenIds, GenerationStop Stop, int PromptTokens);

/// <summary>
/// An InternVL chat model ready to answer: <see cref="InternVlModel"/> + its tokenizer + its chat template. Loads a
/// Hugging Face InternVL directory (config.json, model.safetensors or sharded safetensors with the original names
/// <c>vision_model.*</c>, <c>mlp1.*</c>, <c>language_model.model.*</c>, <c>language_model.lm_head.*</c>, tokenizer files),
/// the real InternVL3-1B/2B ones and the project's shapes-vlm alike. Prompts are batched with left padding (explicit
/// positions and a key mask over cached + new keys), decoded greedily or by temperature/top-p sampling with the KV
/// cache, and stop on <c>&lt;|im_end|&gt;</c>.
/// </summary>
public sealed partial class InternVlChatModel : IDisposable
{
    const string LmHeadName = "language_model.lm_head.weight";

    InternVlChatModel(InternVlModel model, Qwen2Tokenizer tokenizer, InternVlChatTemplate template, LoadReport? report)
    {
        if (!tokenizer.HasImageTokens)
            throw new InvalidDataException($"The tokenizer has no single-token {Qwen2SpecialTokens.ImgStart}, {Qwen2SpecialTokens.ImgEnd} and {Qwen2SpecialTokens.ImgContext}; an InternVL chat model needs all three.");
        if (tokenizer.VocabSize > model.Config.Llm.VocabSize)
            throw new InvalidDataException($"The tokenizer has {tokenizer.VocabSize} ids but the model's embedding has {model.Config.Llm.VocabSize} rows (llm_config.vocab_size).");
        Model = model;
        Tokenizer = tokenizer;
        Template = template;
        LoadReport = report;
        ImageContextId = tokenizer.ImgContext;
        var stops = new List<int> { tokenizer.ImEnd };
        if (tokenizer.EosId is int eos && eos != tokenizer.ImEnd) stops.Add(eos);
        DefaultStopIds = stops;
    }

    public InternVlModel Model { get; }
    public Qwen2Tokenizer Tokenizer { get; }
    public InternVlChatTemplate Template { get; }
    public InternVlConfig Config => Model.Config;

    /// <summary>What the checkpoint load matched (null for a model made with random weights).</summary>
    public LoadReport? LoadReport { get; }

    public int ImageContextId { get; }

    /// <summary><c>&lt;|im_end|&gt;</c> and, if different, the tokenizer's eos.</summary>
    public IReadOnlyList<int> DefaultStopIds { get; }

    /// <summary>Positions the LLM may use (prompt + answer): llm_config.max_position_embeddings.</summary>
    public int ContextLength => Config.Llm.MaxPositionEmbeddings;

    /// <summary>Image tokens per image (all images are resized to image_size).</summary>
    public int TokensPerImage => Config.NumImageTokens;

    // ------------------------------------------------------------------ construction, loading, saving

    /// <summary>A model with the config's random initialisation (for benchmarks, tests and as the start of training).</summary>
    public static InternVlChatModel CreateRandom(InternVlConfig config, Qwen2Tokenizer tokenizer, long seed = 0, Device? device = null)
    {
        var template = InternVlChatTemplate.ForName(config.Template);
        var model = new InternVlModel(config, device, new Generator((ulong)seed));
        return new InternVlChatModel(model, tokenizer, template, null);
    }

    /// <summary>Wraps an existing model (e.g. one being trained) with its tokenizer.</summary>
    public static InternVlChatModel Wrap(InternVlModel model, Qwen2Tokenizer tokenizer) =>
        new(model, tokenizer, InternVlChatTemplate.ForName(model.Config.Template), null);

    /// <summary>
    /// Loads an InternVL directory: config.json (<see cref="InternVlHfConfig"/>), the tokenizer files
    /// (<see cref="TokenizerFiles"/>; a missing tokenizer names the expected files) and the weights
    /// (<see cref="CheckpointReader.DirectoryCandidates"/>: single or sharded safetensors, or .bin). Every tensor of the
    /// model must be in the checkpoint with its shape and nothing else may be there (a tied lm_head may be absent);
    /// otherwise the load is refused with a <see cref="CheckpointLoadException"/> naming the first problems.
    /// </summary>
    public static InternVlChatModel Load(string directory, Device? device = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model directory '{directory}' does not exist.");
        var config = InternVlHfConfig.LoadDirectory(directory);
        var template = InternVlChatTemplate.ForName(config.Template);
        var tokenizer = Qwen2Tokenizer.Load(directory);
        using var checkpoint = CheckpointReader.Open(directory);
        var model = new InternVlModel(config, device);
        try
        {
            var report = LoadWeights(model, checkpoint);
            return new InternVlChatModel(model, tokenizer, template, report);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads <paramref name="checkpoint"/> into <paramref name="model"/> by the original names; refuses any misfit.</summary>
    public static LoadReport LoadWeights(InternVlModel model, ICheckpoint checkpoint)
    {
        bool tied = model.Config.Llm.TieWordEmbeddings;
        var names = new HashSet<string>(checkpoint.Names, StringComparer.Ordinal);
        // Check everything before copying anything (the loader's strict mode), allowing a tied lm_head to be absent.
        var options = new LoadOptions { Strict = false };
        var probe = Probe(model, checkpoint);
        var missing = probe.Missing.Where(m => !(tied && m == LmHeadName && !names.Contains(LmHeadName))).ToList();
        var report = probe with { Missing = missing };
        if (!report.IsComplete)
            throw new CheckpointLoadException(report,
                $"Checkpoint {report.Source} does not fit config.json ({report.Missing.Count} missing, {report.Unexpected.Count} unexpected, " +
                $"{report.Mismatched.Count} shape mismatches; nothing loaded):\n  {report.Summary()}");
        var loaded = StateDictLoader.Load(model, checkpoint, options);
        return loaded with { Missing = missing };
    }

    /// <summary>Matches names and shapes without copying (what a strict load would report).</summary>
    static LoadReport Probe(InternVlModel model, ICheckpoint checkpoint)
    {
        var state = model.state_dict();
        var missing = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        var loadable = new List<string>();
        var names = new HashSet<string>(checkpoint.Names, StringComparer.Ordinal);
        foreach (var (name, target) in state)
        {
            if (!names.Contains(name)) { missing.Add(name); continue; }
            var found = checkpoint.Info(name).Shape;
            if (!found.SequenceEqual(target.shape)) mismatched.Add(new ShapeMismatch(name, target.shape, found));
            else loadable.Add(name);
        }
        var unexpected = checkpoint.Names.Where(n => !state.ContainsKey(n)).ToList();
        return new LoadReport($"'{checkpoint.Path}'", loadable, missing, unexpected, mismatched, 0, 0);
    }

    /// <summary>
    /// Writes a directory that <see cref="Load"/> reads: config.json (hub style), model.safetensors (original names;
    /// a tied lm_head is not repeated), and the tokenizer files (tokenizer.json, vocab.json, merges.txt, tokenizer_config.json).
    /// </summary>
    public void Save(string directory, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(directory);
        InternVlHfConfig.Write(Config, directory);
        var state = Model.state_dict().Where(kv => !(Config.Llm.TieWordEmbeddings && kv.Key == LmHeadName))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        var meta = new Dictionary<string, string> { ["format"] = "pt" };
        if (metadata is not null) foreach (var (k, v) in metadata) meta[k] = v;
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), state, meta);
        TokenizerFiles.Write(Tokenizer.Model, directory);
    }

    // ------------------------------------------------------------------ prompts and images

    /// <summary>The prompt ids of a request: the template around the question, each image as <c>&lt;img&gt;</c> + context tokens + <c>&lt;/img&gt;</c>.</summary>
    public int[] EncodePrompt(ChatRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var text = Template.Prompt(request.Question, request.ImageCount, TokensPerImage);
        var ids = Tokenizer.Encode(text);
        if (ids.Length >= ContextLength)
            throw new ArgumentException(
                $"The prompt is {ids.Length} tokens ({request.ImageCount * (TokensPerImage + 2)} of them for {request.ImageCount} image(s)); " +
                $"this model's context is {ContextLength} tokens (llm_config.max_position_embeddings), and at least one position must be left for the answer.");
        return ids;
    }

    /// <summary>
    /// image [3,H,W] (or [1,3,H,W]) in [−1,1] → [3,S,S] ImageNet-normalised, S = image_size. Other sizes are resized
    /// (bicubic, antialiased, as InternVL's single-tile transform); anything that is not a 3-channel image is refused.
    /// </summary>
    public Tensor PreprocessImage(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var scope = NewDisposeScope();
        var x = image.dim() == 4 && image.shape[0] == 1 ? image.squeeze(0) : image;
        if (x.dim() != 3 || x.shape[0] != 3 || x.shape[1] < 1 || x.shape[2] < 1)
            throw new ArgumentException($"expected an RGB image [3,H,W] in [-1,1], got a tensor of shape [{string.Join(",", image.shape)}]");
        if (!x.is_floating_point()) throw new ArgumentException($"expected a floating-point image in [-1,1], got {x.dtype}");
        x = x.to_type(ScalarType.Float32);
        int s = Config.ImageSize;
        if (x.shape[1] != s || x.shape[2] != s)
            x = ImageTransforms.Resize(x, s, s, ResizeFilter.Bicubic, antialias: true).clamp(-1, 1);
        var normalised = ImageNetNormalize.FromSigned(x.unsqueeze(0)).squeeze(0);
        return normalised.to(ParameterDevice).MoveToOuterDisposeScope();
    }

    Device ParameterDevice => Model.parameters().First().device;

    /// <summary>The images of all requests, in order, preprocessed and stacked [N,3,S,S]; null when there are none.</summary>
    public Tensor? PreprocessImages(IEnumerable<ChatRequest> requests)
    {
        var all = requests.SelectMany(r => r.Images ?? []).ToList();
        if (all.Count == 0) return null;
        using var scope = NewDisposeScope();
        return stack(all.Select(PreprocessImage).ToArray()).MoveToOuterDisposeScope();
    }

    // ------------------------------------------------------------------ generation

    /// <summary>Answers a single question about one image.</summary>
    public ChatResponse Chat(Tensor image, string question, GenerationOptions? options = null) =>
        Generate([new ChatRequest(question, [image])], options)[0];

    /// <summary>Answers a batch of requests together (left-padded; each row stops on its own).</summary>
    public IReadOnlyList<ChatResponse> Generate(IReadOnlyList<ChatRequest> requests, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0) return [];
        var prompts = requests.Select(EncodePrompt).ToList();
        using var scope = NewDisposeScope();
        var pixels = PreprocessImages(requests);
        var generated = GenerateIds(prompts, pixels, options);
        return generated.Select((g, i) => new ChatResponse(Tokenizer.Decode(g.Tokens, skipSpecialTokens: true), g.Tokens, g.Stop, prompts[i].Length)).ToList();
    }

    /// <summary>
    /// Decodes from prompt ids. <paramref name="pixels"/> [N,3,S,S] (normalised) gives the image tokens that replace the
    /// <c>&lt;IMG_CONTEXT&gt;</c> ids, in order over the rows. Rows are left-padded to the longest prompt; positions count
    /// from each row's first real token and the key mask hides the padding in every step.
    /// </summary>
    public IReadOnlyList<GeneratedIds> GenerateIds(IReadOnlyList<int[]> prompts, Tensor? pixels, GenerationOptions? options = null)
    {
        options ??= new GenerationOptions();
        options.Validate();
        int b = prompts.Count;
        if (b == 0) return [];
        int ctx = ContextLength;
        CheckPrompts(prompts);
        if (options.NumBeams > 1) return BeamSearchIds(prompts, pixels, options);
        var stops = new HashSet<int>(options.StopTokenIds ?? DefaultStopIds);
        int vocab = Math.Min(Tokenizer.VocabSize, Config.Llm.VocabSize);
        int pad = Tokenizer.PadId;
        var device = ParameterDevice;

        var (ids, keyMask) = LeftPad(prompts, pad);
        var nextPos = prompts.Select(p => (long)p.Length).ToArray();
        var maxNew = prompts.Select(p => Math.Min(options.MaxNewTokens, ctx - p.Length)).ToArray();

        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var finished = new GenerationStop?[b];
        using var generator = options.Temperature > 0 ? new Generator((ulong)options.Seed) : null;
        using var cache = options.UseKvCache ? Model.LanguageModel.Model.NewCache() : null;
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var imageTokens = pixels is null ? null : Model.ExtractFeature(pixels.to(device));   // [N, N', D]

        Tensor lastLogits;
        {
            using var step = NewDisposeScope();
            lastLogits = FullForward(ids, keyMask, imageTokens, cache, device).MoveToOuterDisposeScope();
        }
        for (int t = 0; ; t++)
        {
            using var step = NewDisposeScope();
            var chosen = TokenChooser.Choose(lastLogits.narrow(-1, 0, vocab), options.Temperature, options.TopP, generator);
            for (int r = 0; r < b; r++)
            {
                if (finished[r] is not null) continue;
                int token = (int)chosen[r];
                if (stops.Contains(token)) { finished[r] = GenerationStop.StopToken; continue; }
                outputs[r].Add(token);
                if (outputs[r].Count >= maxNew[r]) finished[r] = GenerationStop.Length;
            }
            if (finished.All(f => f is not null)) break;

            // Append this step's tokens (finished rows get padding, never used) and run one position.
            var newIds = new long[b];
            var newPos = new long[b];
            for (int r = 0; r < b; r++)
            {
                bool active = finished[r] is null;
                newIds[r] = active ? chosen[r] : pad;
                newPos[r] = active ? nextPos[r]++ : Math.Max(0, nextPos[r] - 1);
                ids[r].Add(newIds[r]);
                keyMask[r].Add(active);
            }
            Tensor logits;
            if (cache is not null)
            {
                logits = CachedStep(newIds, newPos, tensor(keyMask.SelectMany(m => m).ToArray(), device: device).view(b, -1), cache, device);
            }
            else
            {
                logits = FullForward(ids, keyMask, imageTokens, null, device);
            }
            lastLogits.Dispose();
            lastLogits = logits.MoveToOuterDisposeScope();
        }
        return outputs.Select((o, r) => new GeneratedIds(o.ToArray(), finished[r]!.Value)).ToList();
    }

    void CheckPrompts(IReadOnlyList<int[]> prompts)
    {
        foreach (var p in prompts)
        {
            if (p.Length == 0) throw new ArgumentException("a prompt has no tokens");
            if (p.Length >= ContextLength)
                throw new ArgumentException($"The prompt is {p.Length} tokens; this model's context is {ContextLength} tokens (llm_config.max_position_embeddings), and at least one position must be left for the answer.");
        }
    }

    /// <summary>Left-pads the prompts to the longest: row r's tokens occupy its last len_r columns; the key mask marks them.</summary>
    static (List<long>[] Ids, List<bool>[] KeyMask) LeftPad(IReadOnlyList<int[]> prompts, int pad)
    {
        int width = prompts.Max(p => p.Length);
        var ids = new List<long>[prompts.Count];
        var keyMask = new List<bool>[prompts.Count];
        for (int r = 0; r < prompts.Count; r++)
        {
            int offset = width - prompts[r].Length;
            ids[r] = [.. Enumerable.Repeat((long)pad, offset), .. prompts[r].Select(t => (long)t)];
            keyMask[r] = [.. Enumerable.Repeat(false, offset), .. Enumerable.Repeat(true, prompts[r].Length)];
        }
        return (ids, keyMask);
    }

    /// <summary>Runs the whole sequence [B,T] (image tokens spliced in) and returns the last position's logits [B,V].</summary>
    Tensor FullForward(List<long>[] ids, List<bool>[] keyMask, Tensor? imageTokens, Qwen2.KvCache? cache, Device device)
    {
        int b = ids.Length;
        var idT = tensor(ids.SelectMany(r => r).ToArray(), device: device).view(b, -1);                  // [B,T]
        var maskT = tensor(keyMask.SelectMany(m => m).ToArray(), device: device).view(b, -1);             // [B,T]
        // positions count from each row's first real token (padding gets 0, never attended to)
        var positions = tensor(keyMask.SelectMany(m => { long c = -1; return m.Select(on => on ? ++c : 0L); }).ToArray(), device: device).view(b, -1);
        var embeds = imageTokens is null ? Model.LanguageModel.Model.Embed(idT) : Model.EmbedWithImages(idT, imageTokens, ImageContextId);
        var hidden = Model.LanguageModel.Model.Forward(embeds, positions, maskT, cache);                 // [B,T,D]
        return Model.LanguageModel.Logits(hidden.select(1, hidden.shape[1] - 1));                        // [B,V], last position only
    }

    /// <summary>
    /// One cached decoding step: the next token of each row [B] at its position [B], attending to the cached keys plus
    /// itself under <paramref name="keyMask"/> [B, past+1]; returns the logits [B,V].
    /// </summary>
    Tensor CachedStep(long[] tokens, long[] positions, Tensor keyMask, Qwen2.KvCache cache, Device device)
    {
        int b = tokens.Length;
        var embeds = Model.LanguageModel.Model.Embed(tensor(tokens, device: device).view(b, 1));         // [B,1,D]
        var hidden = Model.LanguageModel.Model.Forward(embeds, tensor(positions, device: device).view(b, 1), keyMask, cache);
        return Model.LanguageModel.Logits(hidden.select(1, 0));                                          // [B,V]
    }

    public void Dispose() => Model.Dispose();
}
