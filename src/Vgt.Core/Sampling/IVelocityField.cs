using static TorchSharp.torch;

namespace Vgt.Sampling;

/// <summary>A conditional velocity field v(x_t, t, c) (t = 1 is data, t = 0 is noise), e.g. the flow head's net.</summary>
public interface IVelocityField
{
    /// <summary>Width of x (the token dimension being generated).</summary>
    int InputDim { get; }

    /// <summary>x [N, InputDim], t [N] (fp32), c [N, D] → v [N, InputDim].</summary>
    Tensor Velocity(Tensor x, Tensor t, Tensor c);
}
