namespace ModelGen.Distributed.Tests;

/// <summary>The MPI backend's watchdog, without MPI: a collective that outlives its timeout is reported with its step.
/// The MPI runs themselves (mpirun.mpich -np 2) are in ModelGen.IntegrationTests/MpiTests.cs.</summary>
public class WatchdogTests
{
    [Test]
    public void Watchdog_FiresWithTheStep_OnlyWhenACollectiveOutlivesItsTimeout()
    {
        var fired = new List<(Collective, long, TimeSpan)>();
        using var watchdog = new CollectiveWatchdog((what, step, timeout) => { lock (fired) fired.Add((what, step, timeout)); });
        for (int i = 0; i < 100; i++)
        {
            watchdog.Arm(Collective.Gradients, i, TimeSpan.FromMilliseconds(200));
            watchdog.Disarm();
        }
        Thread.Sleep(400);
        lock (fired) Assert.That(fired, Is.Empty);

        watchdog.Arm(Collective.Gradients, 7, TimeSpan.FromMilliseconds(150));
        Thread.Sleep(1000);
        lock (fired) Assert.That(fired, Is.EqualTo(new[] { (Collective.Gradients, 7L, TimeSpan.FromMilliseconds(150)) }));
        Assert.That(MpiBackend.Describe(Collective.Gradients, 7), Is.EqualTo("the gradient all-reduce of step 7"));
    }
}
