"""A bag-of-embeddings text classifier: nn.Embedding, mean over words, log_softmax with NLLLoss."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

data = [
    ("me gusta comer en la cafeteria".split(), "SPANISH"),
    ("Give it to me".split(), "ENGLISH"),
    ("No creo que sea una buena idea".split(), "SPANISH"),
    ("No it is not a good idea to get lost at sea".split(), "ENGLISH"),
]
word_to_ix = {}
for sent, _ in data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
label_to_ix = {"SPANISH": 0, "ENGLISH": 1}


class BoEClassifier(nn.Module):
    def __init__(self, num_labels, vocab_size, dim):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.linear = nn.Linear(dim, num_labels)

    def forward(self, ids):
        return F.log_softmax(self.linear(self.embed(ids).mean(dim=0, keepdim=True)), dim=1)


model = BoEClassifier(2, len(word_to_ix), 5).double()
init = np.random.default_rng(10)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(init.normal(scale=0.3, size=tuple(p.shape))))

loss_function = nn.NLLLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(50):
    for instance, label in data:
        model.zero_grad()
        ids = torch.tensor([word_to_ix[w] for w in instance], dtype=torch.long)
        loss = loss_function(model(ids), torch.LongTensor([label_to_ix[label]]))
        loss.backward()
        optimizer.step()

with torch.no_grad():
    probs = [model(torch.tensor([word_to_ix[w] for w in s])).exp()[0].tolist() for s, _ in data]
print(
    "RESULT", json.dumps({"loss": loss.item(), "probs": probs, "creo": model.embed.weight[word_to_ix["creo"]].tolist()})
)
