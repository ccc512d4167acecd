using Vgt.Models.InternVl;

namespace Vgt.Tests.Vlm;

public class ChatTemplateTests
{
    [Fact]
    public void VgtTemplateHasNoSystemTurnAndSplicesTheImage()
    {
        var prompt = InternVlChatTemplate.Vgt.Prompt("how many circles are there?", images: 1, tokensPerImage: 3);
        Assert.Equal("<|im_start|>user\n<img><IMG_CONTEXT><IMG_CONTEXT><IMG_CONTEXT></img>\nhow many circles are there?<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public void InternVl25TemplateHasInternVlsSystemMessage()
    {
        var prompt = InternVlChatTemplate.ForName("internvl2_5").Prompt("Hi", images: 0, tokensPerImage: 256);
        Assert.Equal("<|im_start|>system\n你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。<|im_end|>\n"
            + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public void PlaceholdersAreReplacedInOrderAndMustMatchTheImages()
    {
        Assert.Equal("A <img><IMG_CONTEXT></img> B <img><IMG_CONTEXT></img>", InternVlChatTemplate.UserMessage("A <image> B <image>", 2, 1));
        Assert.Equal("<img><IMG_CONTEXT><IMG_CONTEXT></img>\n<img><IMG_CONTEXT><IMG_CONTEXT></img>\nq", InternVlChatTemplate.UserMessage("q", 2, 2));
        var e = Assert.Throws<ArgumentException>(() => InternVlChatTemplate.UserMessage("<image> and <image>", 1, 4));
        Assert.Contains("2 <image> placeholder(s) but 1 image(s)", e.Message);
        Assert.Equal("describe the image.<|im_end|>", InternVlChatTemplate.AnswerText("describe the image."));
    }

    [Fact]
    public void UnknownTemplatesAreRefusedByName()
    {
        var e = Assert.Throws<NotSupportedException>(() => InternVlChatTemplate.ForName("llama3"));
        Assert.Contains("\"llama3\"", e.Message);
        Assert.Null(InternVlChatTemplate.ForName("vgt").SystemMessage);
    }
}
