using ModelGen;
using ModelGen.Optim;

// Measures the managed bytes that 100 training steps of the quickstart MLP allocate on all threads, after warm-up,
// in a process of its own (a test host's threads allocate by themselves). Prints "allocated N bytes".
var rng = new Random(3);
int batch = args.Length > 0 ? int.Parse(args[0]) : 64;
var data = new float[batch * 784];
for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
var labels = Enumerable.Range(0, batch).Select(i => i % 10).ToArray();
using var x = Tensor.From(data, batch, 784);
using var model = new Mlp(Device.Cpu, seed: 1);
using var optimizer = new Adam(model.Parameters, lr: 1e-3);
for (int i = 0; i < 300; i++) Step();
Thread.Sleep(300); // let the JIT finish tiering up the hot methods
for (int i = 0; i < 50; i++) Step();
long before = GC.GetTotalAllocatedBytes(precise: true);
for (int i = 0; i < 100; i++) Step();
long after = GC.GetTotalAllocatedBytes(precise: true);
Console.WriteLine($"allocated {after - before} bytes");
return 0;

void Step()
{
    model.CrossEntropy(x, labels);
    model.Backward();
    optimizer.Step();
    optimizer.ZeroGrad();
}

[Model]
public partial class Mlp
{
    [Layer] readonly Linear fc1 = new(784, 512);
    [Layer] readonly Linear fc2 = new(512, 512);
    [Layer] readonly Linear fc3 = new(512, 10);
    Tensor Forward(Tensor x) => fc3.Apply(Relu(fc2.Apply(Relu(fc1.Apply(x)))));
}
