using Latent.Bench;

var mode = args.Length > 0 ? args[0] : "gemm";
switch (mode)
{
    case "gemm":
        GemmTimer.Run(1);
        GemmTimer.Run(int.MaxValue);
        break;
    default:
        Console.Error.WriteLine($"Unknown mode '{mode}'. Modes: gemm");
        return 2;
}
return 0;
