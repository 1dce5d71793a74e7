using System.Collections.Generic;
using System.Linq;
using ModelGen.Generators.Emit;
using ModelGen.Generators.Graph;
using ModelGen.Generators.Model;

namespace ModelGen.Generators.Ops;

/// <summary>Finds a layer's constructor argument by position or name.</summary>
internal static class LayerArgs
{
    public static ArgSpec? Find(LayerSpec layer, int position, params string[] names)
        => layer.Args.FirstOrDefault(a => a.Name is not null && names.Contains(a.Name))
           ?? (layer.Args.Count > position && layer.Args[position].Name is null ? layer.Args[position] : null);
}
