using Vgt.Imaging;
using Vgt.Models.InternVl;
using static TorchSharp.torch;

namespace Vgt.Pipelines;

/// <summary>
/// Image understanding with an InternVL chat model: <see cref="Caption"/> ("describe the image.") and <see cref="Ask"/>.
/// Images are read with <see cref="ImageFile.Load(string, ImageLoadOptions?)"/> (its size limits; unreadable files
/// and non-images are refused with the reason) and resized to the model's image size.
/// </summary>
public sealed class UnderstandingPipeline(InternVlChatModel model) : IDisposable
{
    /// <summary>The question of the caption task (the one shapes-vlm was trained on).</summary>
    public const string CaptionQuestion = "describe the image.";

    public InternVlChatModel Model { get; } = model;

    /// <summary>Loads the model directory (see <see cref="InternVlChatModel.Load"/>).</summary>
    public static UnderstandingPipeline Load(string modelDirectory) => new(InternVlChatModel.Load(modelDirectory));

    /// <summary>Reads an image file to [3,H,W] in [−1,1]; a file that is not a readable image gives an <see cref="InvalidDataException"/>.</summary>
    public static Tensor LoadImage(string path, ImageLoadOptions? options = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image '{path}' does not exist.", path);
        try
        {
            return ImageFile.Load(path, options);
        }
        catch (ImageFormatException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    public ChatResponse Caption(Tensor image, GenerationOptions? options = null) => Ask(image, CaptionQuestion, options);

    public ChatResponse Ask(Tensor image, string question, GenerationOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(question)) throw new ArgumentException("the question is empty");
        return Model.Chat(image, question, options);
    }

    public ChatResponse Caption(string imagePath, GenerationOptions? options = null) => Ask(imagePath, CaptionQuestion, options);

    public ChatResponse Ask(string imagePath, string question, GenerationOptions? options = null)
    {
        using var image = LoadImage(imagePath);
        return Ask(image, question, options);
    }

    public void Dispose() => Model.Dispose();
}
