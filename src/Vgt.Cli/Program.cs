using TorchSharp;
Console.WriteLine(torch.__version__);
var a = torch.randn(4, 4);
Console.WriteLine((a.matmul(a)).sum().item<float>());
