"""Qt-free, observable view-models (psygnal), one per area. Each listens to the app's change
events (:class:`studio.services.events.StudioEvents`) and asks the services for data through
the operation runner; widgets only bind to them.

``ViewModels.of(studio)`` gives the one set per :class:`Studio`, so every widget of an area
shares its model (the services never import this layer)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.services.studio import Studio
    from studio.viewmodels.activity import ActivityModel
    from studio.viewmodels.batch import BatchViewModel
    from studio.viewmodels.chain import ChainsModel, ChainStatusModel
    from studio.viewmodels.generation import GenerationModel
    from studio.viewmodels.library import LibraryModel
    from studio.viewmodels.models import LoraChoices, ModelManagerModel
    from studio.viewmodels.provision import ProvisionModel
    from studio.viewmodels.wallet import WalletModel
    from studio.viewmodels.workspace import WorkspaceModel


class ViewModels:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    @classmethod
    def of(cls, studio: Studio) -> ViewModels:
        models = studio.__dict__.get("_view_models")
        if models is None:
            models = studio.__dict__["_view_models"] = cls(studio)
        return models

    @cached_property
    def chain(self) -> ChainStatusModel:
        from studio.viewmodels.chain import ChainStatusModel

        return ChainStatusModel(self.studio)

    @cached_property
    def chains(self) -> ChainsModel:
        from studio.viewmodels.chain import ChainsModel

        return ChainsModel(self.studio)

    @cached_property
    def generation(self) -> GenerationModel:
        from studio.viewmodels.generation import GenerationModel

        return GenerationModel(self.studio)

    @cached_property
    def wallet(self) -> WalletModel:
        from studio.viewmodels.wallet import WalletModel

        return WalletModel(self.studio)

    @cached_property
    def activity(self) -> ActivityModel:
        from studio.viewmodels.activity import ActivityModel

        return ActivityModel(self.studio)

    @cached_property
    def provision(self) -> ProvisionModel:
        from studio.viewmodels.provision import ProvisionModel

        return ProvisionModel(self.studio)

    @cached_property
    def library(self) -> LibraryModel:
        from studio.viewmodels.library import LibraryModel

        return LibraryModel(self.studio)

    @cached_property
    def workspace(self) -> WorkspaceModel:
        from studio.viewmodels.workspace import WorkspaceModel

        return WorkspaceModel(self.studio)

    @cached_property
    def models(self) -> ModelManagerModel:
        from studio.viewmodels.models import ModelManagerModel

        return ModelManagerModel(self.studio)

    @cached_property
    def loras(self) -> LoraChoices:
        from studio.viewmodels.models import LoraChoices

        return LoraChoices(self.studio)

    @cached_property
    def batch(self) -> BatchViewModel:
        from studio.viewmodels.batch import BatchViewModel

        s = self.studio
        return BatchViewModel(s.paths, s.settings, s.library, engine=lambda: s.engine,
                              on_asset=lambda asset_id: s.emit(s.events.asset_added, asset_id))
