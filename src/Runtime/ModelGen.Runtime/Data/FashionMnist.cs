using System.Buffers.Binary;
using System.IO.Compression;
using ModelGen.IO;

namespace ModelGen.Data;

/// <summary>Reads IDX files (the MNIST family's format), gzipped or plain: a big-endian magic number, the dimensions,
/// then unsigned bytes. Every problem is an <see cref="InvalidDataException"/> whose message starts with the file's path.</summary>
public static class Idx
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads a 3-dimensional ubyte IDX file: the image count, rows, columns and the pixels, row-major.</summary>
    public static (int Count, int Rows, int Cols, byte[] Pixels) ReadImages(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = OpenMaybeGzip(path);
        var header = ReadHeader(stream, path, ImagesMagic, 16, "images");
        int count = header[1], rows = header[2], cols = header[3];
        if (count < 0 || rows <= 0 || cols <= 0)
            throw Fail(path, $"wrong dimensions: {count} images of {rows}x{cols} pixels");
        Int128 total = (Int128)count * rows * cols; // three ints can overflow a long
        if (total > Array.MaxLength)
            throw Fail(path, $"wrong dimensions: {count} images of {rows}x{cols} pixels is more than one array can hold");
        var pixels = ReadPayload(stream, path, (int)total, $"{count} images of {rows}x{cols}");
        return (count, rows, cols, pixels);
    }

    /// <summary>Reads a 1-dimensional ubyte IDX file (the labels).</summary>
    public static byte[] ReadLabels(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = OpenMaybeGzip(path);
        var header = ReadHeader(stream, path, LabelsMagic, 8, "labels");
        int count = header[1];
        if (count < 0) throw Fail(path, $"wrong label count {count}");
        return ReadPayload(stream, path, count, $"{count} labels");
    }

    private static InvalidDataException Fail(string path, string problem, Exception? inner = null) => new($"{path}: {problem}", inner);

    private static Stream OpenMaybeGzip(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            Span<byte> sig = stackalloc byte[2];
            int n = file.ReadAtLeast(sig, 2, throwOnEndOfStream: false);
            file.Position = 0;
            if (n == 2 && sig[0] == 0x1f && sig[1] == 0x8b) return new GZipStream(file, CompressionMode.Decompress, leaveOpen: false);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads as many bytes as the stream still has, up to <paramref name="buffer"/>'s length; wraps the
    /// decompressor's errors so they name the file.</summary>
    private static int ReadFully(Stream stream, Span<byte> buffer, string path)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException ex)
        {
            throw Fail(path, $"corrupt gzip data: {ex.Message}", ex);
        }
    }

    private static int[] ReadHeader(Stream stream, string path, int expectedMagic, int headerBytes, string what)
    {
        var buf = new byte[headerBytes];
        int got = ReadFully(stream, buf, path);
        if (got < 4)
            throw Fail(path, $"truncated: expected a {headerBytes}-byte IDX {what} header, got {got} bytes");
        int magic = BinaryPrimitives.ReadInt32BigEndian(buf);
        if (magic != expectedMagic)
        {
            string hint = magic == LabelsMagic ? " (this is an IDX labels file)"
                : magic == ImagesMagic ? " (this is an IDX images file)"
                : "";
            throw Fail(path, $"bad magic 0x{magic:X8}, expected 0x{expectedMagic:X8} for IDX {what}{hint}");
        }
        if (got < headerBytes)
            throw Fail(path, $"truncated: expected a {headerBytes}-byte IDX {what} header, got {got} bytes");
        var fields = new int[headerBytes / 4];
        for (int i = 0; i < fields.Length; i++) fields[i] = BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(i * 4));
        return fields;
    }

    private static byte[] ReadPayload(Stream stream, string path, int length, string what)
    {
        // A corrupted header can declare billions of bytes: memory follows the data that is really there (a plain file
        // is measured first; a gzip stream is read in growing chunks).
        if (stream.CanSeek && stream.Length - stream.Position < length)
            throw Fail(path, $"truncated: expected {length} bytes of data ({what}), got {stream.Length - stream.Position}");
        var data = new byte[stream.CanSeek ? length : Math.Min(length, 1 << 20)];
        int got = 0;
        while (true)
        {
            int n = ReadFully(stream, data.AsSpan(got), path);
            got += n;
            if (got < data.Length || data.Length == length) break;
            Array.Resize(ref data, (int)Math.Min(length, 2L * data.Length));
        }
        if (got < length)
            throw Fail(path, $"truncated: expected {length} bytes of data ({what}), got {got}");
        Span<byte> extra = stackalloc byte[1];
        if (ReadFully(stream, extra, path) != 0)
            throw Fail(path, $"wrong count: the header declares {what} ({length} bytes) but more data follows");
        return data;
    }
}

/// <summary>A set of flattened grayscale images with integer class labels.</summary>
public sealed class ImageSet
{
    public ImageSet(float[] images, int[] labels, int features)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if ((long)labels.Length * features != images.Length)
            throw new ArgumentException($"{images.Length} pixel values do not make {labels.Length} images of {features} features.");
        Images = images;
        Labels = labels;
        Features = features;
    }

    public int Count => Labels.Length;

    /// <summary>Values per image (784 for 28x28).</summary>
    public int Features { get; }

    /// <summary>Pixels scaled to [0, 1] (pixel / 255), row-major [Count, Features].</summary>
    public float[] Images { get; }

    public int[] Labels { get; }

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Images.AsSpan(index * Features, Features);
    }

    /// <summary>The first <paramref name="n"/> examples (all of them when <paramref name="n"/> is at least <see cref="Count"/>), copied.</summary>
    public ImageSet Take(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        n = Math.Min(n, Count);
        return new ImageSet(Images.AsSpan(0, n * Features).ToArray(), Labels.AsSpan(0, n).ToArray(), Features);
    }

    public override string ToString() => $"ImageSet({Count} x {Features})";
}

/// <summary>The Fashion-MNIST data set (Zalando): 60,000 training and 10,000 test images of 28x28 pixels in 10 classes.</summary>
public sealed class FashionMnist
{
    public const int Rows = 28;
    public const int Cols = 28;
    public const int Features = Rows * Cols;
    public const string DebianPackage = "dataset-fashion-mnist";
    public const string DownloadUrl = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

    public static readonly IReadOnlyList<string> FileNames =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private FashionMnist(string directory, ImageSet train, ImageSet test)
    {
        Directory = directory;
        Train = train;
        Test = test;
    }

    /// <summary>The folder the files were read from.</summary>
    public string Directory { get; }

    public ImageSet Train { get; }
    public ImageSet Test { get; }

    /// <summary>Loads the data set from the first folder that holds all four files (gzipped or not), searching
    /// <paramref name="dataDir"/> (and its fashion-mnist subfolder), <c>$MODELGEN_DATA/fashion-mnist</c>,
    /// <c>~/.cache/modelgen/fashion-mnist</c> and <c>/usr/share/datasets/fashion-mnist</c> (Debian's
    /// dataset-fashion-mnist package). Throws <see cref="FileNotFoundException"/> naming them when none does.</summary>
    public static FashionMnist Load(string? dataDir = null) => LoadFirst(SearchDirectories(dataDir));

    /// <summary>The folders <see cref="Load"/> searches, in order.</summary>
    public static IReadOnlyList<string> SearchDirectories(string? dataDir = null)
    {
        var dirs = new List<string>();
        if (!string.IsNullOrEmpty(dataDir))
        {
            dirs.Add(dataDir);
            dirs.Add(Path.Combine(dataDir, "fashion-mnist"));
        }
        var env = Environment.GetEnvironmentVariable("MODELGEN_DATA");
        if (!string.IsNullOrEmpty(env)) dirs.Add(Path.Combine(env, "fashion-mnist"));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home)) dirs.Add(Path.Combine(home, ".cache", "modelgen", "fashion-mnist"));
        dirs.Add("/usr/share/datasets/fashion-mnist");
        return dirs;
    }

    internal static FashionMnist LoadFirst(IReadOnlyList<string> directories)
    {
        foreach (var dir in directories)
        {
            var files = FindFiles(dir);
            if (files is not null) return LoadFiles(dir, files);
        }
        throw new FileNotFoundException(
            "Fashion-MNIST not found. Looked for " + string.Join(", ", FileNames) + " (or the same names without .gz) in: "
            + string.Join(", ", directories) + ". "
            + $"Install Debian's package ('apt-get install {DebianPackage}'), pass the folder with '--data DIR', "
            + "or fetch the files with FashionMnist.Download(dir) into one of those folders.");
    }

    /// <summary>The four files' paths in <paramref name="dir"/>, or null when any is missing.</summary>
    private static string[]? FindFiles(string dir)
    {
        var found = new string[FileNames.Count];
        for (int i = 0; i < found.Length; i++)
        {
            var gz = Path.Combine(dir, FileNames[i]);
            var plain = gz[..^3];
            if (File.Exists(gz)) found[i] = gz;
            else if (File.Exists(plain)) found[i] = plain;
            else return null;
        }
        return found;
    }

    private static FashionMnist LoadFiles(string dir, string[] files)
    {
        var train = LoadSet(files[0], files[1]);
        var test = LoadSet(files[2], files[3]);
        return new FashionMnist(dir, train, test);
    }

    private static ImageSet LoadSet(string imagesPath, string labelsPath)
    {
        var (count, rows, cols, pixels) = Idx.ReadImages(imagesPath);
        if (rows != Rows || cols != Cols)
            throw new InvalidDataException($"{imagesPath}: wrong image size {rows}x{cols}, expected {Rows}x{Cols}");
        var labelBytes = Idx.ReadLabels(labelsPath);
        if (labelBytes.Length != count)
            throw new InvalidDataException($"{labelsPath}: wrong count: {labelBytes.Length} labels but {imagesPath} holds {count} images");
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (labelBytes[i] >= ClassNames.Count)
                throw new InvalidDataException($"{labelsPath}: label {labelBytes[i]} at index {i} is not a class (0..{ClassNames.Count - 1})");
            labels[i] = labelBytes[i];
        }
        var images = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) images[i] = pixels[i] / 255f;
        return new ImageSet(images, labels, Features);
    }

    /// <summary>Downloads the four gzipped files from <see cref="DownloadUrl"/> into <paramref name="dir"/> (files
    /// already there are kept). Needs network access.</summary>
    public static void Download(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        System.IO.Directory.CreateDirectory(dir);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        foreach (var name in FileNames)
        {
            var target = Path.Combine(dir, name);
            if (File.Exists(target)) continue;
            using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, DownloadUrl + name), HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            using var body = response.Content.ReadAsStream();
            AtomicFile.Write(target, body.CopyTo);
        }
    }
}
