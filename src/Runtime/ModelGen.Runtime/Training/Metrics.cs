using System.Text;

namespace ModelGen.Training;

/// <summary>What a model predicted for a dataset: logits [rows, classes] and, when known, the labels.</summary>
public sealed record EvalPrediction(float[] Logits, int Rows, int Classes, int[]? Labels)
{
    public int[] Predictions()
    {
        var result = new int[Rows];
        for (int r = 0; r < Rows; r++)
        {
            int best = 0;
            for (int c = 1; c < Classes; c++)
                if (Logits[r * Classes + c] > Logits[r * Classes + best]) best = c;
            result[r] = best;
        }
        return result;
    }
}

/// <summary>Accuracy, precision, recall and F1 (macro and per class) and the confusion matrix, as scikit-learn computes
/// them (a class with no predicted or no true examples gets 0 for the undefined ratio).</summary>
public sealed class ClassificationReport
{
    public ClassificationReport(int[] predictions, int[] labels, int classes)
    {
        if (predictions.Length != labels.Length) throw new ArgumentException($"{predictions.Length} predictions for {labels.Length} labels.");
        Classes = classes;
        Confusion = new int[classes, classes];
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes || (uint)predictions[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), $"Example {i}: label {labels[i]} / prediction {predictions[i]} outside [0, {classes}).");
            Confusion[labels[i], predictions[i]]++;
        }
        Precision = new double[classes];
        Recall = new double[classes];
        F1 = new double[classes];
        int correct = 0;
        for (int c = 0; c < classes; c++)
        {
            int tp = Confusion[c, c], predicted = 0, actual = 0;
            for (int k = 0; k < classes; k++)
            {
                predicted += Confusion[k, c];
                actual += Confusion[c, k];
            }
            correct += tp;
            Precision[c] = predicted == 0 ? 0 : (double)tp / predicted;
            Recall[c] = actual == 0 ? 0 : (double)tp / actual;
            F1[c] = Precision[c] + Recall[c] == 0 ? 0 : 2 * Precision[c] * Recall[c] / (Precision[c] + Recall[c]);
        }
        Accuracy = labels.Length == 0 ? 0 : (double)correct / labels.Length;
    }

    public int Classes { get; }

    /// <summary>[true class, predicted class] counts.</summary>
    public int[,] Confusion { get; }
    public double Accuracy { get; }
    public double[] Precision { get; }
    public double[] Recall { get; }
    public double[] F1 { get; }
    public double MacroPrecision => Precision.Average();
    public double MacroRecall => Recall.Average();
    public double MacroF1 => F1.Average();

    public Dictionary<string, double> ToMetrics()
    {
        var m = new Dictionary<string, double>
        {
            ["accuracy"] = Accuracy, ["precision_macro"] = MacroPrecision, ["recall_macro"] = MacroRecall, ["f1_macro"] = MacroF1,
        };
        for (int c = 0; c < Classes; c++)
        {
            m[$"precision_{c}"] = Precision[c];
            m[$"recall_{c}"] = Recall[c];
            m[$"f1_{c}"] = F1[c];
        }
        return m;
    }

    public string FormatConfusion(IReadOnlyList<string>? names = null)
    {
        var sb = new StringBuilder("true \\ predicted\n");
        for (int r = 0; r < Classes; r++)
        {
            sb.Append((names?[r] ?? r.ToString()).PadRight(14));
            for (int c = 0; c < Classes; c++) sb.Append(Confusion[r, c].ToString().PadLeft(6));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The standard ComputeMetrics for classification.</summary>
    public static Dictionary<string, double> Compute(EvalPrediction prediction)
        => prediction.Labels is null ? new() : new ClassificationReport(prediction.Predictions(), prediction.Labels, prediction.Classes).ToMetrics();
}
